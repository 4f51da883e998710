package seccomp

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
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/berth-project/berth/internal/testenv"
	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// child is the outcome of one scenario run in a re-executed test binary.
type child struct {
	out    map[string]string
	stdout string
	stderr string
	status syscall.WaitStatus
}

func startChild(t *testing.T, scenario string, env ...string) (*exec.Cmd, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(append(os.Environ(), childEnv+"="+scenario), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start child %s: %v", scenario, err)
	}
	return cmd, &stdout, &stderr
}

func waitChild(t *testing.T, cmd *exec.Cmd, stdout, stderr *bytes.Buffer) child {
	t.Helper()
	err := cmd.Wait()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("wait for child: %v", err)
	}
	c := child{out: map[string]string{}, stdout: stdout.String(), stderr: stderr.String(), status: cmd.ProcessState.Sys().(syscall.WaitStatus)}
	sc := bufio.NewScanner(strings.NewReader(c.stdout))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			c.out[k] = v
		}
	}
	t.Logf("child: status %v, stdout %q", c.status, c.stdout)
	if v, ok := c.out["error"]; ok {
		t.Fatalf("child failed: %s\nstderr: %s", v, c.stderr)
	}
	return c
}

func runChild(t *testing.T, scenario string) child {
	t.Helper()
	cmd, stdout, stderr := startChild(t, scenario)
	return waitChild(t, cmd, stdout, stderr)
}

// expectErrno checks the child's report for key against errno (0: success).
func (c child) expectErrno(t *testing.T, key string, errno unix.Errno) {
	t.Helper()
	if got, want := c.out[key], strconv.Itoa(int(errno)); got != want {
		t.Errorf("%s: child reported errno %q, want %s (%v)", key, got, want, errno)
	}
}

func (c child) exitedOK(t *testing.T) {
	t.Helper()
	if !c.status.Exited() || c.status.ExitStatus() != 0 {
		t.Errorf("child ended with %v, want exit 0; stderr:\n%s", c.status, c.stderr)
	}
}

func TestInstallErrno(t *testing.T) {
	c := runChild(t, "errno")
	c.exitedOK(t)
	c.expectErrno(t, "getcwd", unix.EXDEV)
	c.expectErrno(t, "mkdirat", unix.EROFS)
	c.expectErrno(t, "uname", unix.EPERM)
	c.expectErrno(t, "getpid", 0)
}

func TestInstallArgs(t *testing.T) {
	c := runChild(t, "args")
	c.exitedOK(t)
	c.expectErrno(t, "personality_query", unix.ENOKEY)
	c.expectErrno(t, "personality_linux", 0)
	c.expectErrno(t, "socket_dgram", unix.EXDEV)
	c.expectErrno(t, "socket_stream", 0)
	c.expectErrno(t, "lseek_far_set", unix.EROFS)
	c.expectErrno(t, "lseek_near_set", 0)
	c.expectErrno(t, "lseek_far_cur", 0)
}

func TestInstallDefaultErrnoWithWhitelist(t *testing.T) {
	c := runChild(t, "whitelist")
	c.exitedOK(t)
	c.expectErrno(t, "getcwd", unix.EACCES)
	c.expectErrno(t, "uname", unix.EACCES)
	c.expectErrno(t, "getpid", 0)
	c.expectErrno(t, "nr999", unix.ENOSYS)
}

func TestInstallKillProcess(t *testing.T) {
	c := runChild(t, "kill")
	if c.out["installed"] == "" || c.out["survived"] != "" {
		t.Errorf("child output %v: want installed and not survived", c.out)
	}
	if !c.status.Signaled() || c.status.Signal() != unix.SIGSYS {
		t.Errorf("child ended with %v, want killed by SIGSYS", c.status)
	}
}

func TestInstallTrap(t *testing.T) {
	c := runChild(t, "trap")
	if c.out["installed"] == "" || c.out["survived"] != "" {
		t.Errorf("child output %v: want installed and not survived", c.out)
	}
	// SIGSYS with si_code SYS_SECCOMP (1), which the Go runtime reports.
	if !strings.Contains(c.stderr, "SIGSYS: bad system call") || !strings.Contains(c.stderr, "sigcode=1") {
		t.Errorf("child stderr lacks the trapped SIGSYS:\n%s", c.stderr)
	}
}

func TestInstallLog(t *testing.T) {
	c := runChild(t, "log")
	c.exitedOK(t)
	c.expectErrno(t, "getppid_errno", 0)
	if got, want := c.out["getppid"], strconv.Itoa(os.Getpid()); got != want {
		t.Errorf("logged getppid returned %s, want %s (allowed)", got, want)
	}
}

func TestInstallNotify(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "agent.sock")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	cmd, stdout, stderr := startChild(t, "notify", sockEnv+"="+sock)

	agent := make(chan error, 1)
	go func() { agent <- serveAgent(ln, cmd.Process.Pid) }()
	c := waitChild(t, cmd, stdout, stderr)
	ln.Close()
	if err := <-agent; err != nil {
		t.Errorf("seccomp agent: %v", err)
	}
	c.exitedOK(t)
	if fd, _ := strconv.Atoi(c.out["listener"]); fd < 0 {
		t.Errorf("Install returned listener fd %q", c.out["listener"])
	}
	c.expectErrno(t, "getppid", unix.EXDEV)
}

// serveAgent is a seccomp agent: it receives the listener fd and the process
// state on ln, and answers the one getppid notification with EXDEV.
func serveAgent(ln *net.UnixListener, pid int) error {
	conn, err := ln.AcceptUnix()
	if err != nil {
		return fmt.Errorf("accept: %w", err)
	}
	defer conn.Close()
	buf, oob := make([]byte, 1<<16), make([]byte, unix.CmsgSpace(4))
	n, oobn, _, _, err := conn.ReadMsgUnix(buf, oob)
	if err != nil {
		return fmt.Errorf("receive: %w", err)
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		return fmt.Errorf("control messages %v: %v", msgs, err)
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		return fmt.Errorf("rights %v: %v", fds, err)
	}
	fd := fds[0]
	defer unix.Close(fd)

	var st specs.ContainerProcessState
	if err := json.Unmarshal(buf[:n], &st); err != nil {
		return fmt.Errorf("process state %q: %w", buf[:n], err)
	}
	if st.Version != specs.Version || len(st.Fds) != 1 || st.Fds[0] != specs.SeccompFdName ||
		st.Pid != pid || st.Metadata != "berth-meta" || st.State.ID != "seccomp-test" {
		return fmt.Errorf("process state %+v: want pid %d, fds [seccompFd], metadata berth-meta", st, pid)
	}

	// Bound the wait so a child that never notifies cannot hang the test.
	pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	if n, err := unix.Poll(pfd, 60_000); err != nil || n != 1 || pfd[0].Revents&unix.POLLIN == 0 {
		return fmt.Errorf("poll listener: n=%d revents=%#x: %v", n, pfd[0].Revents, err)
	}
	notif, err := Receive(fd)
	if err != nil {
		return fmt.Errorf("NOTIF_RECV: %w", err)
	}
	if notif.Data.Nr != unix.SYS_GETPPID || notif.Data.Arch != unix.AUDIT_ARCH_X86_64 || int(notif.Pid) != pid {
		return fmt.Errorf("notification %+v: want getppid from pid %d", notif, pid)
	}
	if err := RespondErrno(fd, notif.ID, unix.EXDEV); err != nil {
		return fmt.Errorf("NOTIF_SEND: %w", err)
	}
	return nil
}

func TestInstallDockerDefault(t *testing.T) {
	// As root the child holds CAP_SYS_ADMIN, so only the filter can refuse
	// unshare and mount.
	testenv.RequiresRoot(t)
	c := runChild(t, "docker")
	c.exitedOK(t)
	t.Logf("docker default profile: %s instructions", c.out["installed"])
	c.expectErrno(t, "unshare", unix.EPERM)
	c.expectErrno(t, "mount", unix.EPERM)
	if !strings.Contains(c.stdout, "Seccomp:\t2\n") {
		t.Errorf("the shell does not run in seccomp filter mode: %q", c.stdout)
	}
	if c.out["true"] != "ok" || c.out["unshare-shell"] != "denied" {
		t.Errorf("shell workload output %v: want true=ok and unshare-shell=denied", c.out)
	}
}
