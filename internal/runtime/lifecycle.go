package runtime

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/linux/mount"
	"github.com/berth-project/berth/internal/runtime/hooks"
)

// State returns a container's state.
func (r *Runtime) State(id string) (OCIState, error) {
	c, err := r.load(id)
	if err != nil {
		return OCIState{}, err
	}
	return c.OCI(), nil
}

func wrongState(c *Container, op string, st Status) error {
	return fmt.Errorf("cannot %s container %q: it is %s: %w", op, c.State.ID, st, errdefs.ErrFailedPrecondition)
}

// Start lets a created container's process run.
func (r *Runtime) Start(id string) error {
	c, unlock, err := r.loadLocked(id)
	if err != nil {
		return err
	}
	defer unlock()
	return r.start(c)
}

func (r *Runtime) start(c *Container) error {
	if st := c.Status(); st != Created {
		return wrongState(c, "start", st)
	}
	fifo := filepath.Join(c.Dir, fifoName)
	fd, err := unix.Open(fifo, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open exec fifo of %q: %w", c.State.ID, err)
	}
	defer unix.Close(fd)
	// Wait for the init's "0"; it may have died meanwhile.
	buf := make([]byte, 1)
	for {
		pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, err := unix.Poll(pfd, 100)
		if err != nil && !errors.Is(err, unix.EINTR) {
			return fmt.Errorf("wait for container %q: %w", c.State.ID, err)
		}
		if n > 0 {
			if k, _ := unix.Read(fd, buf); k == 1 {
				break
			}
		}
		if !c.initAlive() {
			return fmt.Errorf("container %q: its process exited before start: %w", c.State.ID, errdefs.ErrFailedPrecondition)
		}
	}
	if err := os.Remove(fifo); err != nil {
		return fmt.Errorf("remove exec fifo: %w", err)
	}
	// Running means the process runs: wait until it is exec'd, when the
	// init's end of the FIFO closes (it is close-on-exec). A signal sent
	// right after start then reaches the process, not the init (which, as
	// a pid namespace's init, would drop it), and poststart hooks follow it.
	waitEOF(fd)
	if h := c.State.Spec.Hooks; h != nil && len(h.Poststart) > 0 {
		if err := hooks.RunAll("poststart", h.Poststart, c.specState(Running)); err != nil {
			r.warn("%v", err)
		}
	}
	return nil
}

// waitEOF waits until every writer of the FIFO fd has closed it.
func waitEOF(fd int) {
	buf := make([]byte, 16)
	for {
		pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		if _, err := unix.Poll(pfd, -1); err != nil && !errors.Is(err, unix.EINTR) {
			return
		}
		if n, err := unix.Read(fd, buf); n == 0 || (err != nil && !errors.Is(err, unix.EAGAIN) && !errors.Is(err, unix.EINTR)) {
			return
		}
	}
}

// Kill sends sig to the container's init, or with all to every process in
// its cgroup.
func (r *Runtime) Kill(id string, sig unix.Signal, all bool) error {
	c, err := r.load(id)
	if err != nil {
		return err
	}
	st := c.Status()
	if st == Stopped && !all {
		return wrongState(c, "kill", st)
	}
	if all {
		return c.signalAll(sig)
	}
	if err := unix.Kill(c.State.Pid, sig); err != nil {
		return fmt.Errorf("kill container %q: %w", c.State.ID, err)
	}
	return nil
}

// signalAll signals every process of the container's cgroup (thawing a
// paused container so that the signal is delivered).
func (c *Container) signalAll(sig unix.Signal) error {
	m, err := c.cgroupManager()
	if err != nil {
		return err
	}
	if m == nil {
		if c.initAlive() {
			return unix.Kill(c.State.Pid, sig)
		}
		return nil
	}
	if sig == unix.SIGKILL {
		_ = m.Freeze() // no process may fork away while we kill
	}
	pids, err := m.Pids()
	if err != nil && c.State.Rootless && errors.Is(err, fs.ErrNotExist) {
		// Rootless without a cgroup of its own (a v1 host delegates
		// nothing): as for no cgroup at all, the init alone, whose end
		// takes the processes of its pid namespace with it.
		if c.initAlive() {
			return unix.Kill(c.State.Pid, sig)
		}
		return nil
	}
	if err != nil {
		return err
	}
	for _, p := range pids {
		if err := unix.Kill(p, sig); err != nil && !errors.Is(err, unix.ESRCH) {
			return fmt.Errorf("kill pid %d of %q: %w", p, c.State.ID, err)
		}
	}
	if sig == unix.SIGKILL {
		_ = m.Thaw()
	}
	return nil
}

// Delete removes a stopped (or created) container; force kills a running one first.
func (r *Runtime) Delete(id string, force bool) error {
	c, unlock, err := r.loadLocked(id)
	if err != nil {
		if force && errdefs.IsNotFound(err) {
			return nil
		}
		return err
	}
	defer unlock()
	st := c.Status()
	switch st {
	case Stopped:
	case Created:
		c.killAndWait()
	default:
		if !force {
			return wrongState(c, "delete", st)
		}
		c.killAndWait()
	}
	return r.destroy(c)
}

// killAndWait kills every process of the container and waits until the
// init is gone.
func (c *Container) killAndWait() {
	_ = c.signalAll(unix.SIGKILL)
	if c.initAlive() {
		_ = unix.Kill(c.State.Pid, unix.SIGKILL)
	}
	for i := 0; i < 1000 && c.initAlive(); i++ {
		time.Sleep(5 * time.Millisecond)
	}
}

// destroy removes what a stopped container leaves: cgroups and state.
func (r *Runtime) destroy(c *Container) error {
	if m, err := c.cgroupManager(); err == nil && m != nil {
		if pids, _ := m.Pids(); len(pids) > 0 {
			_ = c.signalAll(unix.SIGKILL)
		}
		if err := m.Destroy(); err != nil {
			return fmt.Errorf("delete container %q: %w", c.State.ID, err)
		}
	}
	c.unmountHostMounts()
	if h := c.State.Spec.Hooks; h != nil {
		if err := hooks.RunAll("poststop", h.Poststop, c.specState(Stopped)); err != nil {
			r.warn("%v", err)
		}
	}
	if err := os.RemoveAll(c.Dir); err != nil {
		return fmt.Errorf("delete container %q: %w", c.State.ID, err)
	}
	return nil
}

// List returns every container under the root, sorted by id.
func (r *Runtime) List() ([]*Container, error) {
	entries, err := os.ReadDir(r.Root)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("list %s: %w", r.Root, err)
	}
	var out []*Container
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		c, err := r.load(e.Name())
		if err != nil {
			continue // being created or deleted
		}
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].State.ID < out[j].State.ID })
	return out, nil
}

// Pids returns the pids of the container's processes (host pid namespace).
func (r *Runtime) Pids(id string) ([]int, error) {
	c, err := r.load(id)
	if err != nil {
		return nil, err
	}
	m, err := c.cgroupManager()
	if err != nil || m == nil {
		if c.initAlive() {
			return []int{c.State.Pid}, err
		}
		return nil, err
	}
	return m.Pids()
}

// Pause freezes a running container.
func (r *Runtime) Pause(id string) error {
	c, unlock, err := r.loadLocked(id)
	if err != nil {
		return err
	}
	defer unlock()
	if st := c.Status(); st != Running {
		return wrongState(c, "pause", st)
	}
	m, err := c.cgroupManager()
	if err != nil || m == nil {
		return fmt.Errorf("pause %q: no cgroup: %w", id, errdefs.ErrFailedPrecondition)
	}
	return m.Freeze()
}

// Resume thaws a paused container.
func (r *Runtime) Resume(id string) error {
	c, unlock, err := r.loadLocked(id)
	if err != nil {
		return err
	}
	defer unlock()
	if st := c.Status(); st != Paused {
		return wrongState(c, "resume", st)
	}
	m, err := c.cgroupManager()
	if err != nil || m == nil {
		return fmt.Errorf("resume %q: no cgroup: %w", id, errdefs.ErrFailedPrecondition)
	}
	return m.Thaw()
}

// ParseSignal accepts "KILL", "SIGKILL", "kill", "9" or "SIGRTMIN+1".
func ParseSignal(s string) (unix.Signal, error) {
	if n, err := strconv.Atoi(s); err == nil {
		if n <= 0 || n > 64 {
			return 0, fmt.Errorf("signal %d is out of range: %w", n, errdefs.ErrInvalidArgument)
		}
		return unix.Signal(n), nil
	}
	name := strings.ToUpper(s)
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	if sig := unix.SignalNum(name); sig != 0 {
		return sig, nil
	}
	if strings.HasPrefix(name, "SIGRTMIN+") || strings.HasPrefix(name, "SIGRTMAX-") {
		// The real-time signals are 34 (SIGRTMIN) to 64 (SIGRTMAX): the offset
		// is unsigned and stays within them.
		n, err := strconv.ParseUint(name[9:], 10, 8)
		if err == nil && n <= 64-34 {
			if name[6] == 'I' {
				return unix.Signal(34 + n), nil
			}
			return unix.Signal(64 - n), nil
		}
	}
	return 0, fmt.Errorf("unknown signal %q: %w", s, errdefs.ErrInvalidArgument)
}

// unmountHostMounts detaches the rootfs bind (and every mount under it) of
// a container without a mount namespace: only a mount stacked on the
// rootfs since the container was created.
func (c *Container) unmountHostMounts() {
	if !c.State.HostMounts {
		return
	}
	for i := 0; i < 4; i++ {
		top := mount.Top(c.State.Rootfs)
		if top == 0 || top == c.State.RootfsTopMount {
			return
		}
		if err := unix.Unmount(c.State.Rootfs, unix.MNT_DETACH); err != nil {
			return
		}
	}
}
