package integration

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/linux/seccomp"
	"github.com/berth-project/berth/test/kit"
)

// opsEvent is one line of `events`: a stats line carries data, an oom line
// only its type and id.
type opsEvent struct {
	Type string `json:"type"`
	ID   string `json:"id"`
	Data *struct {
		Memory *struct {
			Usage *struct {
				Usage uint64 `json:"usage"`
				Limit uint64 `json:"limit"`
			} `json:"usage"`
		} `json:"memory"`
		Pids *struct {
			Current uint64 `json:"current"`
		} `json:"pids"`
	} `json:"data"`
}

// TestEventsOOM: a container limited to 8 MiB (memory and swap) whose
// process doubles a shell string until the OOM killer strikes. `events`,
// started before the container runs, prints stats lines, then an oom line
// for the container, and exits by itself once the container has stopped;
// the runtime's events process and a host process beside it survive, so
// the kill stayed inside the container's cgroup.
func TestEventsOOM(t *testing.T) {
	r := newRuntime(t)
	b := kit.NewBundle(t)
	const limit = 8 << 20
	b.Spec.Linux.Resources.Memory = &specs.LinuxMemory{Limit: ptr(int64(limit)), Swap: ptr(int64(limit))}
	setArgs(t, b, "/bin/sh", "-c", "x=a; while :; do x=$x$x; done")
	id := "events-oom"
	mark := newMark()
	r.deleteOnCleanup(id)
	r.mustDetached(mark, "create", "--bundle", b.Dir, id)

	var ev opsEvent
	decodeJSON(t, r.must("events", "--stats", id), &ev)
	if ev.Type != "stats" || ev.ID != id || ev.Data == nil || ev.Data.Memory == nil || ev.Data.Memory.Usage == nil ||
		ev.Data.Memory.Usage.Limit != limit || ev.Data.Pids == nil || ev.Data.Pids.Current < 1 {
		t.Errorf("events --stats of the created container = %+v, want type stats, id %s, memory.usage with limit %d, pids.current ≥ 1", ev, id, limit)
	}

	// A host process outside the container's cgroup, bigger than the
	// container's whole limit: it must survive the container's OOM.
	bystander := exec.Command("/bin/sh", "-c", "x=$(head -c 16777216 /dev/zero | tr '\\0' a); echo ready; exec sleep 600")
	bout, err := bystander.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := bystander.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = bystander.Process.Kill(); _ = bystander.Wait() })
	_ = bout.(*os.File).SetReadDeadline(time.Now().Add(pollTimeout))
	if line, err := bufio.NewReader(bout).ReadString('\n'); line != "ready\n" {
		t.Fatalf("host bystander printed %q: %v", line, err)
	}

	events := r.command(mark, "events", "--interval", "100ms", id)
	var errb bytes.Buffer
	events.Stderr = &errb
	pipe, err := events.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := events.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = events.Process.Kill() })
	_ = pipe.(*os.File).SetReadDeadline(time.Now().Add(pollTimeout))
	lines := bufio.NewScanner(pipe)
	// The first stats line shows events is watching before the start.
	if !lines.Scan() {
		t.Fatalf("events printed nothing: %v, stderr %q", lines.Err(), errb.String())
	}
	var types []string
	record := func(line string) {
		var e opsEvent
		decodeJSON(t, line, &e)
		if e.ID != id {
			t.Errorf("events line %s names id %q, want %s", line, e.ID, id)
		}
		if e.Type == "stats" && (e.Data == nil || e.Data.Memory == nil || e.Data.Memory.Usage == nil) {
			t.Errorf("events stats line %s has no memory.usage", line)
		}
		if e.Type == "oom" && e.Data != nil {
			t.Errorf("events oom line %s carries data", line)
		}
		types = append(types, e.Type)
	}
	record(lines.Text())

	r.must("start", id)
	for lines.Scan() {
		record(lines.Text())
	}
	if err := lines.Err(); err != nil {
		t.Fatalf("read events: %v (lines so far %q)", err, types)
	}
	if err := events.Wait(); err != nil {
		t.Errorf("events exited with %v once the container stopped, want 0: %s", err, errb.String())
	}
	oom := 0
	for _, typ := range types {
		switch typ {
		case "oom":
			oom++
		case "stats":
		default:
			t.Errorf("events line of type %q", typ)
		}
	}
	if oom != 1 || types[0] != "stats" {
		t.Errorf("events printed %q, want stats lines and exactly one oom", types)
	}
	if got := r.status(id); got != "stopped" {
		t.Errorf("status after the OOM kill = %q, want stopped", got)
	}
	if err := bystander.Process.Signal(syscall.Signal(0)); err != nil {
		t.Errorf("the host process beside the container is gone: %v", err)
	}
	if f := cgroupFile(t, "memory", b.Spec.Linux.CgroupsPath, "memory.oom_control", "memory.events"); !strings.Contains(readTrim(t, f), "oom_kill 1") {
		t.Errorf("%s: %q, want oom_kill 1", f, readTrim(t, f))
	}
	r.must("delete", id)
	assertNoLeaks(t, r, id, b)
	assertNoProcs(t, mark, b)
}

// TestExecEdgeCases: exec into a paused container fails naming the state
// and leaves it paused (resume then works, and so does exec); exec -t with
// --console-socket hands the pty master over and the process sees its
// /dev/pts terminal; a user name for --user, a process.json asking for a
// terminal with -d and no --console-socket, and a command that is not in
// the container each fail with one line naming the culprit, leaving no
// process behind.
func TestExecEdgeCases(t *testing.T) {
	r := newRuntime(t)
	b := kit.NewBundle(t)
	setArgs(t, b, "/probe", "sleep", "1000")
	mark := newMark()
	id := "exec-edge"
	r.deleteOnCleanup(id)
	r.mustDetached(mark, "run", "-d", "--bundle", b.Dir, id)
	initPid := r.statePid(id)

	r.must("pause", id)
	_, errs, code := r.exec(nil, "exec", id, "true")
	assertOneLineError(t, "exec into a paused container", errs, code, id, "paused")
	if got := r.status(id); got != "paused" {
		t.Errorf("status after exec into the paused container = %q, want paused", got)
	}
	r.must("resume", id)
	if out := r.must("exec", id, "echo", "after-resume"); out != "after-resume\n" {
		t.Errorf("exec after resume: stdout %q", out)
	}

	sock, got := consoleReceiver(t)
	_, errs, code = r.detached(mark, "exec", "-t", "--console-socket", sock, id, "sh", "-c", "tty; echo on-tty")
	if code != 0 {
		t.Fatalf("exec -t --console-socket: exit %d: %s", code, errs)
	}
	select {
	case out := <-got:
		lines := strings.Split(out, "\r\n")
		if len(lines) != 3 || !strings.HasPrefix(lines[0], "/dev/pts/") || lines[1] != "on-tty" || lines[2] != "" {
			t.Errorf("exec -t terminal output %q, want /dev/pts/N and on-tty", out)
		}
	case <-time.After(pollTimeout):
		t.Fatal("timed out reading the exec's terminal")
	}

	_, errs, code = r.exec(nil, "exec", "--user", "nobody", id, "true")
	assertOneLineError(t, "exec --user nobody", errs, code, "nobody")

	proc := *b.Spec.Process
	proc.Terminal = true
	proc.Args = []string{"/bin/sh", "-c", "tty"}
	data, err := json.Marshal(proc)
	if err != nil {
		t.Fatal(err)
	}
	pf := filepath.Join(t.TempDir(), "process.json")
	if err := os.WriteFile(pf, data, 0o644); err != nil {
		t.Fatal(err)
	}
	_, errs, code = r.detached(mark, "exec", "-d", "-p", pf, id)
	assertOneLineError(t, "exec -d -p with terminal true and no --console-socket", errs, code, "--console-socket")

	_, errs, code = r.exec(nil, "exec", id, "no-such-binary", "arg")
	assertOneLineError(t, "exec of a command not in the container", errs, code, "no-such-binary")

	if pids := r.containerPids(id); !slices.Equal(pids, []int{initPid}) {
		t.Errorf("container processes after the execs %v, want the init %d only", pids, initPid)
	}
	if got := r.status(id); got != "running" {
		t.Errorf("status after the execs = %q, want running", got)
	}
	r.must("delete", "--force", id)
	assertNoLeaks(t, r, id, b)
	assertNoProcs(t, mark, b)
}

// withTmpfs adds a writable tmpfs at /tmp to b's spec (the root is
// read-only).
func withTmpfs(b *kit.Bundle) {
	b.Spec.Mounts = append(b.Spec.Mounts, specs.Mount{Destination: "/tmp", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "nodev", "mode=1777"}})
}

// TestSeccompBadProfileRefused: an unknown action or architecture fails
// create with one line naming it, and nothing of the container is left.
func TestSeccompBadProfileRefused(t *testing.T) {
	for _, tc := range []struct {
		name, culprit string
		sc            specs.LinuxSeccomp
	}{
		{"action", "SCMP_ACT_FOO", specs.LinuxSeccomp{DefaultAction: specs.ActAllow,
			Syscalls: []specs.LinuxSyscall{{Names: []string{"mkdir"}, Action: "SCMP_ACT_FOO"}}}},
		{"default-action", "SCMP_ACT_FOO", specs.LinuxSeccomp{DefaultAction: "SCMP_ACT_FOO"}},
		{"arch", "SCMP_ARCH_FOO", specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Architectures: []specs.Arch{"SCMP_ARCH_FOO"},
			Syscalls: []specs.LinuxSyscall{{Names: []string{"mkdir"}, Action: specs.ActErrno}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRuntime(t)
			b := kit.NewBundle(t)
			b.Spec.Linux.Seccomp = &tc.sc
			id := "seccomp-bad-" + tc.name
			errs, code := r.create(b, id)
			if code == 0 {
				r.exec(nil, "delete", "-f", id)
			}
			assertOneLineError(t, "create with seccomp "+tc.culprit, errs, code, tc.culprit)
			assertNoLeaks(t, r, id, b)
			assertNoProcs(t, "", b)
		})
	}
}

// TestSeccompErrnoAndUnknownSyscall: a rule SCMP_ACT_ERRNO with errnoRet 38
// makes mkdir fail with ENOSYS inside while the rest works; an unknown
// syscall name in the same rule is skipped (create works), and with --debug
// the runtime logs it in its log, not on the container's stdout.
func TestSeccompErrnoAndUnknownSyscall(t *testing.T) {
	r := newRuntime(t)
	b := kit.NewBundle(t)
	withTmpfs(b)
	b.Spec.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{{
		Names: []string{"no_such_syscall_x", "mkdir", "mkdirat"}, Action: specs.ActErrno, ErrnoRet: ptr(uint(38)),
	}}}
	b.Spec.Process.Args = []string{"/bin/sh", "-c", `mkdir /tmp/x 2>&1 || echo mkdir-refused; echo hi > /tmp/file && cat /tmp/file; ls /tmp`}
	if err := b.Save(); err != nil {
		t.Fatal(err)
	}
	logFile := filepath.Join(t.TempDir(), "runtime.log")
	out, errs, code := r.exec(nil, "--debug", "--log", logFile, "run", "--bundle", b.Dir, "seccomp-errno")
	if code != 0 {
		t.Fatalf("run: exit %d: %s", code, errs)
	}
	want := "mkdir: can't create directory '/tmp/x': Function not implemented\nmkdir-refused\nhi\nfile\n"
	if out != want {
		t.Errorf("inside: %q, want %q (mkdir fails with ENOSYS, the rest works)", out, want)
	}
	log, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(log), "no_such_syscall_x") {
		t.Errorf("runtime --debug log does not name the skipped syscall no_such_syscall_x:\n%s", log)
	}
	if strings.Contains(out+errs, "no_such_syscall_x") {
		t.Errorf("the skipped syscall is named on the container's stdio: stdout %q stderr %q", out, errs)
	}
	assertNoLeaks(t, r, "seccomp-errno", b)
}

// seccompAgent is what a test-run seccomp agent received on one connection.
type seccompAgent struct {
	state specs.ContainerProcessState
	nrs   []int32 // the syscalls it answered
	err   error
}

// startSeccompAgent listens on a unix socket for runtimes sending a
// containerProcessState with a seccomp listener fd; on each connection it
// answers every notification with errno until the listener closes (the
// processes of that filter are gone), then yields what it got.
func startSeccompAgent(t *testing.T, errno unix.Errno) (string, <-chan *seccompAgent) {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "agent.sock")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	done := make(chan *seccompAgent, 4)
	go func() {
		for {
			conn, err := l.AcceptUnix()
			if err != nil {
				return // closed by the cleanup
			}
			go func() {
				a := &seccompAgent{}
				a.err = a.serve(conn, errno)
				done <- a
			}()
		}
	}()
	return sock, done
}

func (a *seccompAgent) serve(conn *net.UnixConn, errno unix.Errno) error {
	defer conn.Close()
	_ = conn.SetReadDeadline(time.Now().Add(pollTimeout))
	buf, oob := make([]byte, 1<<16), make([]byte, unix.CmsgSpace(4*4))
	n, oobn, _, _, err := conn.ReadMsgUnix(buf, oob)
	if err != nil {
		return fmt.Errorf("read message: %w", err)
	}
	var fds []int
	cmsgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	for _, c := range cmsgs {
		if f, err := unix.ParseUnixRights(&c); err == nil {
			fds = append(fds, f...)
		}
	}
	for _, fd := range fds {
		defer unix.Close(fd)
	}
	if err != nil || len(fds) != 1 {
		return fmt.Errorf("want one fd with the message, got %d (%v)", len(fds), err)
	}
	if err := json.Unmarshal(buf[:n], &a.state); err != nil {
		return fmt.Errorf("parse process state %q: %w", buf[:n], err)
	}
	for {
		// POLLHUP: no process of the filter is left (some kernels would
		// block in RECV then, rather than fail with ENOENT).
		pfd := []unix.PollFd{{Fd: int32(fds[0]), Events: unix.POLLIN}}
		if _, err := unix.Poll(pfd, -1); err != nil && !errors.Is(err, unix.EINTR) {
			return fmt.Errorf("poll the listener: %w", err)
		}
		if pfd[0].Revents&unix.POLLIN == 0 {
			if pfd[0].Revents&(unix.POLLHUP|unix.POLLERR) != 0 {
				return nil
			}
			continue
		}
		req, err := seccomp.Receive(fds[0])
		if err != nil {
			return nil // ENOENT: no process of this filter is left
		}
		a.nrs = append(a.nrs, req.Data.Nr)
		if err := seccomp.RespondErrno(fds[0], req.ID, errno); err != nil && !errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("answer notification: %w", err)
		}
	}
}

// nextAgent waits for the next connection the agent is done with.
func nextAgent(t *testing.T, done <-chan *seccompAgent) *seccompAgent {
	t.Helper()
	select {
	case a := <-done:
		if a.err != nil {
			t.Fatalf("seccomp agent: %v", a.err)
		}
		return a
	case <-time.After(pollTimeout):
		t.Fatal("timed out waiting for the seccomp agent")
		return nil
	}
}

// TestSeccompNotify: with an SCMP_ACT_NOTIFY rule for mkdir a seccomp agent
// listening on listenerPath gets the listener fd and the
// containerProcessState (ociVersion, fds ["seccompFd"], the process's pid
// as the runtime sees it, the container's id and bundle, listenerMetadata
// passed through) and answers: mkdir fails with the errno the agent chose
// (EXDEV), other syscalls are untouched. An exec'd process gets a listener
// of its own, sent the same way with status "running".
func TestSeccompNotify(t *testing.T) {
	r := newRuntime(t)
	b := kit.NewBundle(t)
	withTmpfs(b)
	sock, done := startSeccompAgent(t, unix.EXDEV)
	b.Spec.Linux.Seccomp = &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow, ListenerPath: sock, ListenerMetadata: "meta-from-spec",
		Syscalls: []specs.LinuxSyscall{{Names: []string{"mkdir", "mkdirat"}, Action: specs.ActNotify}},
	}
	const script = "mkdir /tmp/x 2>&1 || echo mkdir-refused; echo hi > /tmp/file && cat /tmp/file"
	const want = "mkdir: can't create directory '/tmp/x': Invalid cross-device link\nmkdir-refused\nhi\n"
	id := "seccomp-notify"
	check := func(what string, a *seccompAgent, status specs.ContainerState, pid int) {
		t.Helper()
		st := a.state
		if st.Version != specs.Version || !slices.Equal(st.Fds, []string{specs.SeccompFdName}) || st.Metadata != "meta-from-spec" ||
			st.State.ID != id || st.State.Bundle != b.Dir || st.State.Status != status || st.Pid != pid {
			t.Errorf("%s: containerProcessState %+v, want ociVersion %s, fds [%s], metadata meta-from-spec, id %s, bundle %s, status %s, pid %d",
				what, st, specs.Version, specs.SeccompFdName, id, b.Dir, status, pid)
		}
		if len(a.nrs) != 1 || (a.nrs[0] != unix.SYS_MKDIR && a.nrs[0] != unix.SYS_MKDIRAT) {
			t.Errorf("%s: the agent answered syscalls %v, want one mkdir (%d or %d)", what, a.nrs, unix.SYS_MKDIR, unix.SYS_MKDIRAT)
		}
	}

	// The container's process: the shell mkdirs, then waits for exec.
	setArgs(t, b, "/bin/sh", "-c", script+"; exec /probe sleep 1000")
	mark := newMark()
	r.deleteOnCleanup(id)
	out := r.mustDetached(mark, "create", "--bundle", b.Dir, id) // the container's stdout
	initPid := r.statePid(id)
	r.must("start", id)
	waitUntil(t, "the container's mkdir and exec of the probe", func() bool {
		c, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", initPid))
		return strings.HasPrefix(string(c), "/probe\x00")
	})
	if data, _ := os.ReadFile(out); string(data) != want {
		t.Errorf("inside: %q, want %q (mkdir fails with the agent's EXDEV, the rest works)", data, want)
	}

	pidFile := filepath.Join(t.TempDir(), "exec.pid")
	execOut, errs, code := r.exec(nil, "exec", "--pid-file", pidFile, id, "/bin/sh", "-c", script)
	if code != 0 || execOut != want {
		t.Errorf("exec: exit %d, stdout %q, stderr %q; want %q", code, execOut, errs, want)
	}
	execPid, _ := strconv.Atoi(readTrim(t, pidFile))
	check("exec", nextAgent(t, done), specs.StateRunning, execPid)

	r.must("kill", id, "KILL")
	r.waitStatus(id, "stopped")
	check("container", nextAgent(t, done), specs.StateCreating, initPid)
	r.must("delete", id)
	assertNoLeaks(t, r, id, b)
	assertNoProcs(t, mark, b)
}

// TestSeccompNotifyNoAgent: a listenerPath nobody listens on fails create
// with one line naming it, and nothing of the container is left.
func TestSeccompNotifyNoAgent(t *testing.T) {
	r := newRuntime(t)
	b := kit.NewBundle(t)
	sock := filepath.Join(t.TempDir(), "nobody.sock")
	b.Spec.Linux.Seccomp = &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow, ListenerPath: sock,
		Syscalls: []specs.LinuxSyscall{{Names: []string{"mkdir", "mkdirat"}, Action: specs.ActNotify}},
	}
	id := "seccomp-noagent"
	errs, code := r.create(b, id)
	if code == 0 {
		r.exec(nil, "delete", "-f", id)
	}
	assertOneLineError(t, "create with a listenerPath nobody listens on", errs, code, sock)
	assertNoLeaks(t, r, id, b)
	assertNoProcs(t, "", b)
}
