package runtime

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/linux/cgroups"
	"github.com/berth-project/berth/internal/linux/mount"
	"github.com/berth-project/berth/internal/linux/ns"
	"github.com/berth-project/berth/internal/linux/pty"
	"github.com/berth-project/berth/internal/linux/seccomp"
	"github.com/berth-project/berth/internal/runtime/hooks"
	"github.com/berth-project/berth/internal/runtime/initproc"
)

// CreateOptions are the flags of `create` (and `run`).
type CreateOptions struct {
	ID            string
	Bundle        string
	PidFile       string
	ConsoleSocket string
	NoPivot       bool
	NoNewKeyring  bool
	PreserveFds   int
	// Foreground: the caller stays the container's parent (`run` without
	// -d) and takes the pty master itself when there is no console socket.
	Foreground bool
}

// created is a container just created, with what a foreground caller needs.
type created struct {
	c       *Container
	sp      *spawn
	console *os.File // pty master, foreground with a terminal only
	unlock  func()
}

// Create creates a container whose process waits for Start.
func (r *Runtime) Create(o CreateOptions) error {
	cr, err := r.create(o)
	if err != nil {
		return err
	}
	cr.unlock()
	cr.sp.release()
	return nil
}

func (r *Runtime) create(o CreateOptions) (_ *created, err error) {
	if err := ValidateID(o.ID); err != nil {
		return nil, err
	}
	spec, bundle, rootfs, err := LoadBundle(o.Bundle)
	if err != nil {
		return nil, err
	}
	if err := r.checkConsole(spec, o); err != nil {
		return nil, err
	}
	if err := r.ensureRoot(); err != nil {
		return nil, err
	}
	var u undo
	defer func() {
		if err != nil {
			u.Run()
		}
	}()
	dir := filepath.Join(r.Root, o.ID)
	if err := os.Mkdir(dir, 0o711); err != nil {
		if errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("container %q already exists: %w", o.ID, errdefs.ErrAlreadyExists)
		}
		return nil, fmt.Errorf("create state directory %s: %w", dir, err)
	}
	u.push(func() { os.RemoveAll(dir) })
	unlock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	u.push(unlock)
	c := &Container{Dir: dir, State: State{
		OCIVersion: specs.Version, ID: o.ID, Bundle: bundle, Rootfs: rootfs,
		Annotations: spec.Annotations, Spec: spec, Rootless: r.Rootless,
		Owner: ownerName(),
	}}
	fifo := filepath.Join(dir, fifoName)
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		return nil, fmt.Errorf("create exec fifo: %w", err)
	}
	if err := os.Chmod(fifo, 0o622); err != nil {
		return nil, fmt.Errorf("chmod exec fifo: %w", err)
	}

	filter, err := r.compileSeccomp(spec)
	if err != nil {
		return nil, err
	}
	cg, err := cgroups.New(spec.Linux.CgroupsPath, o.ID, r.Rootless)
	if err != nil {
		return nil, err
	}

	sp, err := newSpawn(spec, o.PreserveFds, bundle)
	if err != nil {
		return nil, err
	}
	defer sp.closeChildEnds()
	u.push(sp.closeParentEnds)
	if err := sp.addSeccompAgent(filter); err != nil {
		return nil, err
	}
	var consoleLocal *os.File
	if spec.Process.Terminal {
		if o.ConsoleSocket != "" {
			f, err := dialConsole(o.ConsoleSocket)
			if err != nil {
				return nil, err
			}
			sp.addConsole(f)
		} else {
			local, remote, err := socketPair()
			if err != nil {
				return nil, err
			}
			consoleLocal = local
			u.push(func() { local.Close() })
			sp.addConsole(remote)
		}
	}
	// On cgroup v2 the init is born in its cgroup (CLONE_INTO_CGROUP): no
	// migration after the fact, and the limits hold from its first
	// instruction.
	intoCgroup := cgroups.HostMode() == cgroups.Unified && !r.Rootless
	if intoCgroup {
		u.push(func() { cg.Destroy() })
		if err := cg.Apply(-1); err != nil {
			return nil, err
		}
		if err := cg.Set(withDeviceRules(spec)); err != nil {
			return nil, err
		}
		fd, err := unix.Open(cg.Path(""), unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return nil, fmt.Errorf("open cgroup %s: %w", cg.Path(""), err)
		}
		defer unix.Close(fd)
		sp.cmd.SysProcAttr.UseCgroupFD = true
		sp.cmd.SysProcAttr.CgroupFD = fd
	}
	if err := sp.start(); err != nil {
		return nil, err
	}
	pid := sp.pid
	u.push(func() {
		sp.kill()
		cg.Destroy()
	})
	if !intoCgroup {
		if err := cg.Apply(pid); err != nil {
			return nil, err
		}
		if err := cg.Set(withDeviceRules(spec)); err != nil {
			return nil, err
		}
	}
	for _, w := range cg.Warnings() {
		r.warn("cgroup: %s", w)
	}
	start, _, err := procStat(pid)
	if err != nil {
		return nil, fmt.Errorf("container init exited early: %w", err)
	}
	c.State.Pid, c.State.PidStartTime = pid, start
	c.State.CgroupPaths = cg.Paths()
	c.State.Created = time.Now().UTC()

	if !hasNamespace(spec, specs.MountNamespace) {
		// The init mounts in our namespace, on a bind of the rootfs onto
		// itself: remember what was on top before, to undo exactly that.
		c.State.HostMounts, c.State.RootfsTopMount = true, mount.Top(rootfs)
		u.push(c.unmountHostMounts)
	}
	// Idmapped mounts are made here, where the privilege is, now that the
	// init's user namespace exists; the init asks for them (MsgMounts).
	if sp.idmapped, err = makeIDMapped(spec, bundle, pid); err != nil {
		return nil, err
	}
	u.push(func() { closeIDMapped(sp.idmapped) })
	cfg := initproc.Config{
		Spec: spec, Process: spec.Process, Rootfs: rootfs, FifoPath: fifo,
		NoPivot: o.NoPivot, NoNewKeyring: o.NoNewKeyring, PreserveFds: o.PreserveFds,
		HostMounts: c.State.HostMounts, NewCgroupNS: sp.newNS(specs.CgroupNamespace), NewTimeNS: sp.newNS(specs.TimeNamespace) && sp.childUnshare&unix.CLONE_NEWTIME == 0, UserNS: sp.newNS(specs.UserNamespace) || namespacePath(spec, specs.UserNamespace) != "" || ns.InUserNamespace(),
		NewUTS: hasNamespace(spec, specs.UTSNamespace), CgroupPaths: c.State.CgroupPaths,
		HookHandshake: spec.Hooks != nil && len(spec.Hooks.Prestart)+len(spec.Hooks.CreateRuntime) > 0,
		State:         *c.specState(Creating),
		Seccomp:       filter,
		Pid:           pid,
	}
	err = sp.handshake(&cfg, func() error {
		st := c.specState(Creating)
		if err := hooks.Run("prestart", spec.Hooks.Prestart, st); err != nil {
			return err
		}
		return hooks.Run("createRuntime", spec.Hooks.CreateRuntime, st)
	})
	if err != nil {
		return nil, err
	}
	var master *os.File
	if consoleLocal != nil {
		master, err = pty.RecvFd(consoleLocal)
		consoleLocal.Close()
		if err != nil {
			return nil, err
		}
	}
	if err := c.save(); err != nil {
		return nil, err
	}
	if o.PidFile != "" {
		if err := writePidFile(o.PidFile, pid); err != nil {
			return nil, err
		}
	}
	sp.closeParentEnds()
	u.Release()
	return &created{c: c, sp: sp, console: master, unlock: unlock}, nil
}

// compileSeccomp compiles the spec's seccomp section (nil when it has none)
// here, so that the init only installs it. Unknown syscalls are skipped,
// as runc does, with a debug message.
func (r *Runtime) compileSeccomp(spec *specs.Spec) (*seccomp.Filter, error) {
	if spec.Linux == nil || spec.Linux.Seccomp == nil {
		return nil, nil
	}
	f, warnings, err := seccomp.Compile(spec.Linux.Seccomp)
	if err != nil {
		return nil, fmt.Errorf("linux.seccomp: %w", err)
	}
	for _, w := range warnings {
		r.debug("seccomp: %s", w)
	}
	return f, nil
}

func (r *Runtime) checkConsole(spec *specs.Spec, o CreateOptions) error {
	switch {
	case spec.Process.Terminal && o.ConsoleSocket == "" && !o.Foreground:
		return fmt.Errorf("process.terminal is true: --console-socket is required when detached: %w", errdefs.ErrInvalidArgument)
	case !spec.Process.Terminal && o.ConsoleSocket != "":
		return fmt.Errorf("--console-socket given but process.terminal is false: %w", errdefs.ErrInvalidArgument)
	}
	return nil
}

func dialConsole(path string) (*os.File, error) {
	conn, err := net.Dial("unix", path)
	if err != nil {
		return nil, fmt.Errorf("console socket %s: %w", path, err)
	}
	defer conn.Close()
	f, err := conn.(*net.UnixConn).File()
	if err != nil {
		return nil, fmt.Errorf("console socket %s: %w", path, err)
	}
	return f, nil
}

func socketPair() (*os.File, *os.File, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("socketpair: %w", err)
	}
	return os.NewFile(uintptr(fds[0]), "parent"), os.NewFile(uintptr(fds[1]), "child"), nil
}

func writePidFile(path string, pid int) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	return writeFileAtomic(abs, []byte(strconv.Itoa(pid)), 0o644)
}

func ownerName() string {
	if os.Geteuid() == 0 {
		return ""
	}
	return strconv.Itoa(os.Geteuid())
}

// withDeviceRules returns the spec's resources with an allow rule for each
// device of linux.devices appended (the cgroups layer adds the default
// devices' rules itself), as runc does.
func withDeviceRules(spec *specs.Spec) *specs.LinuxResources {
	res := specs.LinuxResources{}
	if spec.Linux.Resources != nil {
		res = *spec.Linux.Resources
	}
	rules := append([]specs.LinuxDeviceCgroup(nil), res.Devices...)
	for _, d := range spec.Linux.Devices {
		t := d.Type
		if t == "u" {
			t = "c"
		}
		if t == "p" {
			continue
		}
		major, minor := d.Major, d.Minor
		rules = append(rules, specs.LinuxDeviceCgroup{Allow: true, Type: t, Major: &major, Minor: &minor, Access: "rwm"})
	}
	res.Devices = rules
	return &res
}
