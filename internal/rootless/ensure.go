package rootless

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/linux/nsenter"
)

// Ensure, for an unprivileged berth (euid != 0), joins the rootless
// namespaces — made first, with their pause process, when none runs — by
// re-executing this program with the same arguments: on success it does
// not return. As root (the host's, or the namespaces' after the
// re-execution) it does nothing and returns nil.
func Ensure() error {
	if os.Geteuid() == 0 {
		return nil
	}
	if !nsenter.Available() {
		return fmt.Errorf("rootless: not supported by this build of berth (built without cgo, it cannot join a user namespace): %w", errdefs.ErrNotImplemented)
	}
	uid := os.Getuid()
	if uid != os.Geteuid() {
		return fmt.Errorf("rootless: uid %d with euid %d (setuid): %w", uid, os.Geteuid(), errdefs.ErrNotImplemented)
	}
	dir := RunDir(uid)
	if err := ensurePrivateDir(dir); err != nil {
		return err
	}
	pid, err := pauseProcess(dir)
	if err != nil {
		return err
	}
	env := make([]string, 0, len(os.Environ())+4)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "_BERTH_") {
			env = append(env, kv)
		}
	}
	ns := fmt.Sprintf("/proc/%d/ns/", pid)
	env = append(env, nsenter.Env([]nsenter.Join{
		{Flag: unix.CLONE_NEWUSER, Path: ns + "user"},
		{Flag: unix.CLONE_NEWNS, Path: ns + "mnt"},
	}, 0, "")...)
	env = append(env, nsenter.EnvKeepCwd+"=1", EnvUID+"="+strconv.Itoa(uid))
	if err := syscall.Exec("/proc/self/exe", os.Args, env); err != nil {
		return fmt.Errorf("rootless: re-execute berth in the user namespace: %w", err)
	}
	return nil
}

// pauseProcess returns the pid of the user's pause process, starting one
// (under pause.lock in dir) when pause.pid names none.
func pauseProcess(dir string) (int, error) {
	lock, err := os.OpenFile(filepath.Join(dir, "pause.lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return 0, fmt.Errorf("rootless: %w", err)
	}
	defer lock.Close()
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX); err != nil {
		return 0, fmt.Errorf("rootless: lock %s: %w", lock.Name(), err)
	}
	pidFile := filepath.Join(dir, "pause.pid")
	if b, err := os.ReadFile(pidFile); err == nil {
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && isPause(pid) {
			return pid, nil
		}
	}
	pid, err := startPause()
	if err != nil {
		return 0, err
	}
	tmp := pidFile + ".tmp"
	if err := os.WriteFile(tmp, []byte(strconv.Itoa(pid)+"\n"), 0o600); err != nil {
		return 0, fmt.Errorf("rootless: %w", err)
	}
	if err := os.Rename(tmp, pidFile); err != nil {
		return 0, fmt.Errorf("rootless: %w", err)
	}
	return pid, nil
}

// isPause reports whether pid is a live pause process of this user (not a
// process that took a dead one's pid).
func isPause(pid int) bool {
	var st unix.Stat_t
	if err := unix.Stat(fmt.Sprintf("/proc/%d", pid), &st); err != nil || int(st.Uid) != os.Getuid() {
		return false
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return false
	}
	args := bytes.Split(bytes.TrimRight(cmdline, "\x00"), []byte{0})
	if len(args) != 2 || string(args[1]) != PauseArg {
		return false
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	return err == nil && !strings.Contains(string(status), "\nState:\tZ")
}
