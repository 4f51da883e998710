package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/monitor"
)

// WaitRemoved blocks until the container id is gone: what a foreground
// `run --rm` waits for once the container has exited, so that the next
// command of a script does not see it. The container's monitor removes it
// (its cleanup command) and exits right after, so WaitRemoved sleeps on
// the monitor's exit (a pidfd) rather than polling the store; it checks the
// store again after the exit, and every few milliseconds while no monitor
// runs. It returns ctx's error if the container is still there when ctx
// ends.
func (e *Engine) WaitRemoved(ctx context.Context, id string) error {
	for {
		if _, err := e.container(id); errdefs.IsNotFound(err) {
			return nil
		} else if err != nil {
			return err
		}
		wait := 5 * time.Millisecond
		if pid := pidAlive(filepath.Join(e.runDir(id), monitor.PidFile)); pid != 0 {
			if err := waitProcessExit(ctx, pid, e.runDir(id)); err == nil {
				wait = 0
			}
		}
		if wait > 0 {
			select {
			case <-ctx.Done():
			case <-time.After(wait):
			}
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("wait for container %s to be removed: %w", shortContainerID(id), err)
		}
	}
}

// waitProcessExit waits for process pid, the monitor of run directory run,
// to exit (the pidfd turns readable), or for ctx to end. It returns an
// error without waiting if pid cannot be watched or is no longer that
// monitor.
func waitProcessExit(ctx context.Context, pid int, run string) error {
	fd, err := unix.PidfdOpen(pid, 0)
	if errors.Is(err, unix.ESRCH) {
		return nil // gone already
	}
	if err != nil {
		return fmt.Errorf("watch process %d: %w", pid, err)
	}
	defer unix.Close(fd)
	// The pidfd holds pid: if it is still the monitor now, it is the
	// monitor until the pidfd says it exited.
	if !isMonitorOf(pid, run) {
		return fmt.Errorf("process %d is no longer the monitor of %s", pid, run)
	}
	for {
		timeout := 100 // ms: how often ctx is looked at
		if dl, ok := ctx.Deadline(); ok {
			timeout = max(0, min(timeout, int(time.Until(dl).Milliseconds())+1))
		}
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, err := unix.Poll(fds, timeout)
		switch {
		case err != nil && !errors.Is(err, unix.EINTR):
			return fmt.Errorf("watch process %d: %w", pid, err)
		case n > 0:
			return nil
		case ctx.Err() != nil:
			return ctx.Err()
		}
	}
}

// isMonitorOf reports whether process pid is the berth-monitor of run
// directory run (monitor.Launch passes it as the argument).
func isMonitorOf(pid int, run string) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil {
		return false
	}
	args := strings.Split(strings.TrimSuffix(string(b), "\x00"), "\x00")
	return len(args) == 2 && filepath.Base(args[0]) == "berth-monitor" && args[1] == run
}
