package rootless

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"os/user"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/linux/nsenter"
)

// PauseArg is the only argument of the pause process (`berth PauseArg`).
const PauseArg = "__berth-rootless-pause"

// syncFd is the pause process's end of the sync socket.
const syncFd = 3

// message is one line on the sync socket (the nsenter constructor's
// protocol, plus "ready" from Pause).
type message struct {
	Type string `json:"type"`
	Msg  string `json:"msg,omitempty"`
}

// Pause is the pause process: root of the namespaces the nsenter
// constructor has just made, it reports ready on the sync socket and
// sleeps until SIGTERM. It never returns.
func Pause() {
	os.Unsetenv(nsenter.EnvSyncFd)
	// The constructor left the process non-dumpable: other berth commands
	// of the user must open its /proc/<pid>/ns files to join.
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 1, 0, 0, 0); err != nil {
		fmt.Fprintln(os.Stderr, "rootless pause: set dumpable:", err)
		os.Exit(1)
	}
	_ = os.Chdir("/")
	signal.Ignore(syscall.SIGHUP, syscall.SIGINT, syscall.SIGPIPE)
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM)
	f := os.NewFile(syncFd, "sync")
	_, err := f.Write([]byte("{\"type\":\"ready\"}\n"))
	f.Close()
	if err != nil {
		os.Exit(1)
	}
	<-term
	os.Exit(0)
}

// startPause starts the pause process, writes its id maps and waits until
// it is ready; it returns its pid. The caller holds the pause lock.
func startPause() (int, error) {
	self, err := user.Current()
	if err != nil {
		return 0, fmt.Errorf("rootless: who am I: %w", err)
	}
	uid, gid := os.Getuid(), os.Getgid()
	uidRanges, err := readRanges("/etc/subuid", self.Username, uid)
	if err != nil {
		return 0, fmt.Errorf("rootless: %w", err)
	}
	gidRanges, err := readRanges("/etc/subgid", self.Username, uid)
	if err != nil {
		return 0, fmt.Errorf("rootless: %w", err)
	}
	newuidmap, err1 := exec.LookPath("newuidmap")
	newgidmap, err2 := exec.LookPath("newgidmap")
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("rootless: newuidmap and newgidmap are needed (Debian package uidmap): %w", errdefs.ErrNotFound)
	}
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return 0, fmt.Errorf("rootless: sync socket: %w", err)
	}
	parent, child := os.NewFile(uintptr(fds[0]), "sync"), os.NewFile(uintptr(fds[1]), "sync-child")
	defer parent.Close()
	cmd := exec.Command("/proc/self/exe", PauseArg)
	cmd.Args[0] = "berth"
	cmd.Env = append(os.Environ(), nsenter.Env(nil, unix.CLONE_NEWUSER|unix.CLONE_NEWNS, "")...)
	cmd.Env = append(cmd.Env, nsenter.EnvSyncFd+"="+strconv.Itoa(syncFd))
	cmd.ExtraFiles = []*os.File{child}
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	err = cmd.Start()
	child.Close()
	if err != nil {
		return 0, fmt.Errorf("rootless: start the pause process: %w", err)
	}
	pid := cmd.Process.Pid
	fail := func(err error) (int, error) {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return 0, fmt.Errorf("rootless: pause process: %w", err)
	}
	r := bufio.NewReader(parent)
	m, err := readMessage(r)
	if err != nil {
		return fail(err)
	}
	if m.Type != nsenter.MsgIDMap {
		return fail(fmt.Errorf("sent %q, want %q", m.Type, nsenter.MsgIDMap))
	}
	p := strconv.Itoa(pid)
	if out, err := exec.Command(newuidmap, append([]string{p}, mapArgs(uid, uidRanges)...)...).CombinedOutput(); err != nil {
		return fail(fmt.Errorf("newuidmap %s %s: %w: %s", p, strings.Join(mapArgs(uid, uidRanges), " "), err, strings.TrimSpace(string(out))))
	}
	if out, err := exec.Command(newgidmap, append([]string{p}, mapArgs(gid, gidRanges)...)...).CombinedOutput(); err != nil {
		return fail(fmt.Errorf("newgidmap %s %s: %w: %s", p, strings.Join(mapArgs(gid, gidRanges), " "), err, strings.TrimSpace(string(out))))
	}
	if _, err := parent.Write([]byte("{\"type\":\"" + nsenter.MsgIDMapDone + "\"}\n")); err != nil {
		return fail(err)
	}
	if m, err = readMessage(r); err != nil {
		return fail(err)
	}
	if m.Type != "ready" {
		return fail(fmt.Errorf("sent %q, want ready", m.Type))
	}
	// Not waited for: it outlives this command (reparented when berth
	// exits).
	_ = cmd.Process.Release()
	return pid, nil
}

// readMessage reads one line of the sync protocol; an error message from
// the constructor becomes an error.
func readMessage(r *bufio.Reader) (message, error) {
	var m message
	line, err := r.ReadBytes('\n')
	if err != nil {
		if errors.Is(err, os.ErrClosed) || len(line) == 0 {
			return m, fmt.Errorf("exited before it was ready: %w", err)
		}
		return m, err
	}
	if err := json.Unmarshal(line, &m); err != nil {
		return m, fmt.Errorf("sync message %q: %w", line, err)
	}
	if m.Type == "error" {
		return m, errors.New(m.Msg)
	}
	return m, nil
}
