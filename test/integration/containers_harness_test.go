package integration

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/test/kit"
)

// The container suite (containers_test.go) is one list of scenarios, each
// a function of a ctrCase, run once per OCI runtime: berth-runtime (the
// default) and Debian's runc (--runtime runc). A suite has a berth root of
// its own with the kit's busybox image pulled into it; its cases run
// concurrently (ctrSuite.runCases), each tagging the containers it makes
// with a label of its own so that it can find and remove them when it
// ends, then check that they left nothing:
//
//	cgroups    /sys/fs/cgroup/*/berth/<id>
//	processes  a berth-monitor of <runroot>/containers/<id>
//	files      <root>/containers/<id>, <runroot>/containers/<id>,
//	           <runroot>/netns/<id>, <runroot>/runtime/*/<id>
//	mounts     any mount point naming <id> under root or runroot
//
// Every container the suite ever made (an inotify watch on
// <root>/containers sees them all, --rm ones included) is checked the same
// way when the suite ends, and then nothing may be mounted under root or
// runroot and nothing may be left in <runroot>/containers or
// <runroot>/netns.

// ctrImageRepo is the repository the suite's image is pushed to.
const ctrImageRepo = "/itest/containers-busybox:1"

// ctrSuite is one run of the scenarios: a berth root of its own and an OCI
// runtime.
type ctrSuite struct {
	b       *berthCLI
	runtime string // "" (berth-runtime) or "runc"
	image   string // the busybox image's reference, pulled
	watch   *idWatch
}

// newCtrSuite makes berth over a root of t's own, pulls the image, and
// checks every container made under it for leaks when t ends.
func newCtrSuite(t *testing.T, runtime string) *ctrSuite {
	t.Helper()
	b := newBerth(t)
	ref := kit.Registry(t) + ctrImageRepo
	kit.PushImage(t, kit.BusyboxImage(t, ""), ref)
	s := &ctrSuite{b: b, runtime: runtime, image: ref}
	if err := os.MkdirAll(filepath.Join(b.root, "containers"), 0o700); err != nil {
		t.Fatal(err)
	}
	w, err := watchIDs(filepath.Join(b.root, "containers"))
	if err != nil {
		t.Fatal(err)
	}
	s.watch = w
	t.Cleanup(func() { s.finalChecks(t) })
	b.must("pull", "-q", ref)
	return s
}

// finalChecks removes what is left and checks every container the suite
// ever made.
func (s *ctrSuite) finalChecks(t *testing.T) {
	t.Helper()
	b := s.b.with(t)
	out, _, _ := b.run("ps", "-a", "-q", "--no-trunc")
	for _, id := range outLines(out) {
		t.Errorf("container %s left at the end of the suite", id)
		b.run("rm", "-f", "-v", id)
	}
	ids := s.watch.stop()
	for _, id := range ids {
		checkCtrGone(t, b, id)
	}
	for _, d := range []string{"containers", "netns"} {
		left, _ := os.ReadDir(filepath.Join(b.runroot, d))
		for _, e := range left {
			t.Errorf("%s left in %s", e.Name(), filepath.Join(b.runroot, d))
		}
	}
	if pids := monitorsOf(b.runroot); len(pids) > 0 {
		t.Errorf("berth-monitor processes of the suite still run: %v", pids)
	}
	left, _ := os.ReadDir(filepath.Join(b.root, "containers"))
	for _, e := range left {
		t.Errorf("%s left in %s", e.Name(), filepath.Join(b.root, "containers"))
	}
	t.Logf("%d containers made and checked", len(ids))
}

// ctrCaseFunc is one scenario.
type ctrCaseFunc struct {
	name string
	fn   func(c *ctrCase)
}

// runCases runs the cases as subtests of t, n at a time. It does not use
// t.Parallel: the cases mostly wait on containers, so more of them at once
// than `go test -parallel` (GOMAXPROCS) allows keeps the suite short.
func (s *ctrSuite) runCases(t *testing.T, n int, cases []ctrCaseFunc) {
	sem := make(chan struct{}, n)
	var wg sync.WaitGroup
	for i, cf := range cases {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			t.Run(cf.name, func(t *testing.T) {
				c := s.newCase(t, fmt.Sprintf("c%d", i))
				cf.fn(c)
			})
		}()
	}
	wg.Wait()
}

// ctrCase is one scenario's view of its suite.
type ctrCase struct {
	*ctrSuite
	t     *testing.T
	b     *berthCLI
	label string   // "itest.case=<tag>": every container the case makes carries it
	tag   string   // unique in the suite: a prefix for the case's names
	ids   []string // containers the case knows it made
	mu    sync.Mutex
}

func (s *ctrSuite) newCase(t *testing.T, tag string) *ctrCase {
	c := &ctrCase{ctrSuite: s, t: t, b: s.b.with(t), label: "itest.case=" + tag, tag: tag}
	t.Cleanup(c.cleanup)
	return c
}

// cleanup removes the case's containers (rm -f -v) and checks that they
// left nothing.
func (c *ctrCase) cleanup() {
	t := c.t
	out, _, _ := c.b.run("ps", "-a", "-q", "--no-trunc", "--filter", "label="+c.label)
	ids := outLines(out)
	for _, id := range ids {
		if _, errs, code := c.b.run("rm", "-f", "-v", id); code != 0 {
			t.Errorf("cleanup: rm -f %s: exit %d: %s", id, code, errs)
		}
	}
	c.mu.Lock()
	ids = append(ids, c.ids...)
	c.mu.Unlock()
	slices.Sort(ids)
	for _, id := range slices.Compact(ids) {
		checkCtrGone(t, c.b, id)
	}
}

// name is a container name unique in the suite.
func (c *ctrCase) name(s string) string { return c.tag + "-" + s }

// args puts the case's label and the suite's runtime into a run or create.
func (c *ctrCase) args(args []string) []string {
	if len(args) == 0 || args[0] != "run" && args[0] != "create" {
		return args
	}
	extra := []string{args[0], "--label", c.label}
	if c.runtime != "" {
		extra = append(extra, "--runtime", c.runtime)
	}
	return append(extra, args[1:]...)
}

// berth runs berth with args (see args) and returns stdout, stderr, code.
func (c *ctrCase) berth(args ...string) (string, string, int) {
	c.t.Helper()
	return c.b.run(c.args(args)...)
}

// berthIn is berth with stdin.
func (c *ctrCase) berthIn(stdin string, args ...string) (string, string, int) {
	c.t.Helper()
	return c.b.runStdin(stdin, c.args(args)...)
}

// must runs berth and fails the case unless it exits 0.
func (c *ctrCase) must(args ...string) string {
	c.t.Helper()
	out, errs, code := c.berth(args...)
	if code != 0 {
		c.t.Fatalf("berth %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errs)
	}
	return out
}

// expect runs berth and fails the case unless it exits with code; it
// returns stdout and stderr.
func (c *ctrCase) expect(code int, args ...string) (string, string) {
	c.t.Helper()
	out, errs, got := c.berth(args...)
	if got != code {
		c.t.Errorf("berth %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), got, code, out, errs)
	}
	return out, errs
}

var fullID = regexp.MustCompile(`^[0-9a-f]{64}$`)

// detach runs `berth run -d` with flags, the image and cmd, and returns the
// container's ID.
func (c *ctrCase) detach(flags []string, cmd ...string) string {
	c.t.Helper()
	args := append(append(append([]string{"run", "-d"}, flags...), c.image), cmd...)
	return c.track(c.must(args...), args)
}

// create runs `berth create` likewise.
func (c *ctrCase) create(flags []string, cmd ...string) string {
	c.t.Helper()
	args := append(append(append([]string{"create"}, flags...), c.image), cmd...)
	return c.track(c.must(args...), args)
}

func (c *ctrCase) track(out string, args []string) string {
	c.t.Helper()
	id := strings.TrimSpace(out)
	if !fullID.MatchString(id) {
		c.t.Fatalf("berth %s: printed %q, want a 64-hex container ID", strings.Join(args, " "), out)
	}
	c.mu.Lock()
	c.ids = append(c.ids, id)
	c.mu.Unlock()
	return id
}

// fg runs a container in the foreground (with flags, the image and cmd)
// and returns stdout, stderr and berth's exit code.
func (c *ctrCase) fg(flags []string, cmd ...string) (string, string, int) {
	c.t.Helper()
	return c.berth(append(append(append([]string{"run"}, flags...), c.image), cmd...)...)
}

// ctrInspect is what the tests read of `berth inspect`.
type ctrInspect struct {
	ID    string `json:"Id"`
	Name  string
	Path  string
	Args  []string
	State struct {
		Status                            string
		Running, Paused, Restarting, Dead bool
		Pid, ExitCode, RestartCount       int
		Error, LogError                   string
		StartedAt, FinishedAt             time.Time
		Health                            *struct {
			Status        string
			FailingStreak int
		}
		MonitorPid int
	}
	Image        string
	LogPath      string
	RestartCount int
	Mounts       []struct {
		Type, Name, Source, Destination, Mode string
		RW                                    bool
	}
	Config struct {
		Hostname, User, WorkingDir, StopSignal, Image string
		Env, Cmd, Entrypoint                          []string
		Labels                                        map[string]string
		Tty, OpenStdin                                bool
	}
	HostConfig struct {
		NetworkMode   string
		RestartPolicy struct {
			Name              string
			MaximumRetryCount int
		}
		AutoRemove bool
		LogConfig  struct{ Type string }
		Runtime    string
	}
}

// inspect decodes `berth inspect id`.
func (c *ctrCase) inspect(id string) ctrInspect {
	c.t.Helper()
	out := c.must("inspect", id)
	var v []ctrInspect
	if err := json.Unmarshal([]byte(out), &v); err != nil || len(v) != 1 {
		c.t.Fatalf("inspect %s: %v: want a JSON array of one container\n%s", id, err, out)
	}
	return v[0]
}

// status is the container's .State.Status.
func (c *ctrCase) status(id string) string {
	c.t.Helper()
	return c.inspect(id).State.Status
}

// waitFor polls cond every 50 ms for up to 30 s; the case fails (what
// names it) if it never holds.
func (c *ctrCase) waitFor(what string, cond func() bool) {
	c.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			c.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitStatus waits until id's status is want.
func (c *ctrCase) waitStatus(id, want string) {
	c.t.Helper()
	c.waitFor(id[:12]+" to be "+want, func() bool { return c.status(id) == want })
}

// execOut runs `berth exec id cmd…` and returns its stdout, failing the
// case unless it exits 0.
func (c *ctrCase) execOut(id string, cmd ...string) string {
	c.t.Helper()
	return c.must(append([]string{"exec", id}, cmd...)...)
}

// cgroupDir is id's cgroup in the v1 hierarchy of controller.
func cgroupDir(controller, id string) string {
	return filepath.Join("/sys/fs/cgroup", controller, "berth", id)
}

// ctrFileText reads a file's content without surrounding space ("" on error).
func ctrFileText(p string) string {
	b, err := os.ReadFile(p)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// checkCtrGone fails t for everything the removed container id left.
func checkCtrGone(t testing.TB, b *berthCLI, id string) {
	t.Helper()
	short := id[:12]
	if out, _, code := b.run("inspect", id); code == 0 {
		t.Errorf("container %s still known after its removal:\n%.300s", short, out)
		return
	}
	cgs, _ := filepath.Glob(filepath.Join("/sys/fs/cgroup", "*", "berth", id))
	for _, cg := range cgs {
		t.Errorf("container %s: cgroup %s left", short, cg)
	}
	for _, p := range []string{
		filepath.Join(b.root, "containers", id),
		filepath.Join(b.runroot, "containers", id),
		filepath.Join(b.runroot, "netns", id),
	} {
		if _, err := os.Lstat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("container %s: %s left (%v)", short, p, err)
		}
	}
	states, _ := filepath.Glob(filepath.Join(b.runroot, "runtime", "*", id))
	for _, p := range states {
		t.Errorf("container %s: runtime state %s left", short, p)
	}
	for _, m := range mountsBelow(b.root, b.runroot) {
		if strings.Contains(m, id) {
			t.Errorf("container %s: mount %s left", short, m)
		}
	}
	if pids := monitorsOf(filepath.Join(b.runroot, "containers", id)); len(pids) > 0 {
		t.Errorf("container %s: berth-monitor %v still runs", short, pids)
	}
}

// mountsBelow lists the mount points at or under any of dirs.
func mountsBelow(dirs ...string) []string {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	var out []string
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) < 5 {
			continue
		}
		for _, d := range dirs {
			if f[4] == d || strings.HasPrefix(f[4], d+"/") {
				out = append(out, f[4])
			}
		}
	}
	return out
}

// monitorsOf returns the pids of berth-monitor processes (not zombies)
// whose command line names dir (a container's run directory, or a runroot).
func monitorsOf(dir string) []int {
	procs, _ := os.ReadDir("/proc")
	var pids []int
	for _, p := range procs {
		var pid int
		if _, err := fmt.Sscanf(p.Name(), "%d", &pid); err != nil {
			continue
		}
		cmd, err := os.ReadFile(filepath.Join("/proc", p.Name(), "cmdline"))
		if err != nil || len(cmd) == 0 {
			continue
		}
		args := strings.Split(strings.TrimRight(string(cmd), "\x00"), "\x00")
		if !strings.Contains(filepath.Base(args[0]), "berth-monitor") {
			continue
		}
		for _, a := range args[1:] {
			if a == dir || strings.HasPrefix(a, dir+"/") {
				pids = append(pids, pid)
				break
			}
		}
	}
	return pids
}

// idWatch records the name of every directory made in one directory
// (inotify), i.e. every container berth creates under <root>/containers.
type idWatch struct {
	fd   int
	wd   int
	mu   sync.Mutex
	ids  map[string]bool
	done chan struct{}
}

func watchIDs(dir string) (*idWatch, error) {
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("inotify: %w", err)
	}
	wd, err := unix.InotifyAddWatch(fd, dir, unix.IN_CREATE|unix.IN_MOVED_TO|unix.IN_ONLYDIR)
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("inotify watch %s: %w", dir, err)
	}
	w := &idWatch{fd: fd, wd: wd, ids: map[string]bool{}, done: make(chan struct{})}
	go w.read()
	return w, nil
}

func (w *idWatch) read() {
	defer close(w.done)
	buf := make([]byte, 64<<10)
	for {
		n, err := unix.Read(w.fd, buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil || n <= 0 {
			return
		}
		for off := 0; off+unix.SizeofInotifyEvent <= n; {
			ev := (*unix.InotifyEvent)(unsafe.Pointer(&buf[off]))
			if ev.Mask&unix.IN_IGNORED != 0 {
				return // the watch is gone (stop)
			}
			name := buf[off+unix.SizeofInotifyEvent : off+unix.SizeofInotifyEvent+int(ev.Len)]
			if ev.Mask&unix.IN_ISDIR != 0 {
				s := string(bytes.TrimRight(name, "\x00"))
				if fullID.MatchString(s) {
					w.mu.Lock()
					w.ids[s] = true
					w.mu.Unlock()
				}
			}
			off += unix.SizeofInotifyEvent + int(ev.Len)
		}
	}
}

// stop ends the watch and returns the IDs seen, sorted.
func (w *idWatch) stop() []string {
	// Closing an inotify fd does not wake a blocked read; removing the
	// watch queues IN_IGNORED after every event before it.
	unix.InotifyRmWatch(w.fd, uint32(w.wd))
	select {
	case <-w.done:
	case <-time.After(2 * time.Second):
	}
	unix.Close(w.fd)
	w.mu.Lock()
	defer w.mu.Unlock()
	var ids []string
	for id := range w.ids {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// bgBerth is a berth command running in the background (attach, logs -f,
// a foreground run being signalled).
type bgBerth struct {
	cmd  *exec.Cmd
	out  *lockedBuffer
	errb *lockedBuffer
	done chan struct{}
	code int
}

// lockedBuffer is a bytes.Buffer safe for one writer and many readers.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// start runs berth with args in the background; stdin may be nil. It is
// killed when the case ends if still running.
func (c *ctrCase) start(stdin *os.File, args ...string) *bgBerth {
	c.t.Helper()
	cmd := exec.Command(c.b.bin, append(append([]string{}, c.b.flags...), c.args(args)...)...)
	p := &bgBerth{cmd: cmd, out: &lockedBuffer{}, errb: &lockedBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.out, p.errb
	if stdin != nil {
		cmd.Stdin = stdin
	}
	if err := cmd.Start(); err != nil {
		c.t.Fatalf("start berth %v: %v", args, err)
	}
	go func() {
		err := cmd.Wait()
		var ee *exec.ExitError
		switch {
		case errors.As(err, &ee):
			p.code = ee.ExitCode()
			if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				p.code = 128 + int(ws.Signal())
			}
		case err != nil:
			p.code = -1
		}
		close(p.done)
	}()
	c.t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// wait waits up to 30 s for p to exit and returns its code.
func (p *bgBerth) wait(t testing.TB) int {
	t.Helper()
	select {
	case <-p.done:
		return p.code
	case <-time.After(30 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
		t.Fatalf("berth %v: still running after 30 s\nstdout: %s\nstderr: %s", p.cmd.Args[1:], p.out, p.errb)
		return -1
	}
}

// exited reports whether p has exited.
func (p *bgBerth) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}
