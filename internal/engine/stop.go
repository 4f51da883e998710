package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
	"time"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/monitor"
	"github.com/berth-project/berth/internal/spec"
)

// Stop stops the container the user's word s names: no more restarts, its
// stop signal, then SIGKILL after timeout seconds (negative: the
// container's own --stop-timeout). It returns once the container has
// exited and its monitor has written its exit record.
func (e *Engine) Stop(ctx context.Context, s string, timeout int) (Container, error) {
	c, err := e.container(s)
	if err != nil {
		return c, err
	}
	if timeout < 0 {
		timeout = c.StopTimeout
	}
	st := e.State(ctx, c)
	if st.Status == StatusCreated && st.MonitorPid == 0 || st.Status == StatusExited {
		return c, nil
	}
	// A monitor killed with SIGKILL answers nothing (monitor.Stop says
	// "exited" for it) while its container may still run: only the
	// runtime's kill ends that.
	if st.MonitorPid != 0 {
		rep, err := monitor.Stop(ctx, e.runDir(c.ID))
		if err == nil && rep.Status == monitor.StatusExited {
			return c, e.containerEvent(e.waitExit(ctx, c, 0), c, "stop")
		}
	}
	sig := syscall.SIGTERM
	if _, n, err := spec.ParseSignal(c.StopSignal); err == nil && n > 0 {
		sig = syscall.Signal(n)
	}
	rt := e.runtimeFor(c)
	if st.Paused {
		// A frozen process cannot act on its signal.
		_ = rt.Resume(ctx, c.ID)
	}
	if timeout > 0 {
		if err := rt.Kill(ctx, c.ID, sig, false); err != nil && !gone(err) {
			return c, fmt.Errorf("stop %s: %w", c.Name, err)
		}
		if err := e.waitExit(ctx, c, time.Duration(timeout)*time.Second); err == nil {
			return c, e.containerEvent(nil, c, "stop")
		}
	}
	if err := rt.Kill(ctx, c.ID, syscall.SIGKILL, true); err != nil && !gone(err) {
		return c, fmt.Errorf("kill %s: %w", c.Name, err)
	}
	return c, e.containerEvent(e.waitExit(ctx, c, 0), c, "stop")
}

// Kill sends sig to the container's process (docker kill). The restart
// policy still applies, as in docker.
func (e *Engine) Kill(ctx context.Context, s string, sig syscall.Signal) (Container, error) {
	c, err := e.container(s)
	if err != nil {
		return c, err
	}
	st := e.State(ctx, c)
	if !st.Running {
		return c, fmt.Errorf("container %s is not running: %w", c.Name, errdefs.ErrFailedPrecondition)
	}
	if st.Paused {
		// A frozen process acts on no signal, SIGKILL included (cgroup
		// v1): docker refuses too. stop and rm -f thaw it first.
		return c, fmt.Errorf("container %s is paused: unpause it before killing it (or stop it): %w", c.Name, errdefs.ErrFailedPrecondition)
	}
	if err := e.runtimeFor(c).Kill(ctx, c.ID, sig, false); err != nil {
		return c, fmt.Errorf("kill %s: %w", c.Name, err)
	}
	return c, e.containerEvent(nil, c, "kill", "signal", fmt.Sprint(int(sig)))
}

// Pause freezes the container's processes; Unpause thaws them.
func (e *Engine) Pause(ctx context.Context, s string) (Container, error) {
	c, err := e.container(s)
	if err != nil {
		return c, err
	}
	if st := e.State(ctx, c); st.Status != StatusRunning {
		return c, fmt.Errorf("container %s is %s, not running: %w", c.Name, st.Status, errdefs.ErrFailedPrecondition)
	}
	return c, e.containerEvent(e.runtimeFor(c).Pause(ctx, c.ID), c, "pause")
}

// Unpause thaws a paused container.
func (e *Engine) Unpause(ctx context.Context, s string) (Container, error) {
	c, err := e.container(s)
	if err != nil {
		return c, err
	}
	if st := e.State(ctx, c); !st.Paused {
		return c, fmt.Errorf("container %s is not paused: %w", c.Name, errdefs.ErrFailedPrecondition)
	}
	return c, e.containerEvent(e.runtimeFor(c).Resume(ctx, c.ID), c, "unpause")
}

// gone reports whether a runtime error says the container's process is
// not there to signal any more.
func gone(err error) bool {
	return errdefs.IsNotFound(err) || errdefs.IsFailedPrecondition(err)
}

// waitExit waits for c's exit record (timeout 0: until ctx is done), or for
// the runtime to report it stopped when its monitor is gone.
func (e *Engine) waitExit(ctx context.Context, c Container, timeout time.Duration) error {
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	for wait := 5 * time.Millisecond; ; wait = min(2*wait, 100*time.Millisecond) {
		if _, err := os.Stat(e.exitFile(c.ID)); err == nil {
			return nil
		} else if !errors.Is(err, os.ErrNotExist) {
			return err
		}
		if _, err := os.Stat(e.containerDir(c.ID)); errors.Is(err, os.ErrNotExist) {
			return nil // exited and removed (--rm), or removed meanwhile
		}
		if st := e.State(ctx, c); st.Status == StatusExited {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for %s to exit: %w", c.Name, ctx.Err())
		case <-time.After(wait):
		}
	}
}

// Wait blocks until the container exits (for good: after its restarts)
// and returns its exit code.
func (e *Engine) Wait(ctx context.Context, s string) (int, error) {
	c, err := e.container(s)
	if err != nil {
		return 0, err
	}
	if st := e.State(ctx, c); st.Status == StatusCreated && st.MonitorPid == 0 {
		// docker waits for a created container to run and exit.
		for st.Status == StatusCreated && st.MonitorPid == 0 {
			select {
			case <-ctx.Done():
				return 0, ctx.Err()
			case <-time.After(100 * time.Millisecond):
			}
			if c, err = e.container(c.ID); err != nil {
				return 0, err
			}
			st = e.State(ctx, c)
		}
	}
	for {
		if st := e.State(ctx, c); st.Status == StatusExited {
			return st.ExitCode, nil
		}
		// The monitor tells its attach clients of each exit once it is
		// recorded; a --rm container's record goes right after that, so
		// only the exit packet has its code then.
		code, heard := e.hearExit(ctx, c)
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		if heard {
			if _, err := e.container(c.ID); errdefs.IsNotFound(err) {
				return code, nil
			}
			continue // exited for good, or restarting
		}
		// No monitor to listen to (killed, or done meanwhile): poll.
		if err := e.waitExit(ctx, c, 0); err != nil {
			return 0, err
		}
		if _, err := e.container(c.ID); errdefs.IsNotFound(err) {
			return 0, fmt.Errorf("container %s was removed before its exit code could be read: %w", c.Name, err)
		}
	}
}

// hearExit listens on the attach socket of c's monitor for the exit of
// its process; heard is false when no monitor answered or it hung up
// without an exit.
func (e *Engine) hearExit(ctx context.Context, c Container) (code int, heard bool) {
	conn, err := monitor.Attach(e.runDir(c.ID))
	if err != nil {
		return 0, false
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	code, err = conn.Copy(io.Discard, io.Discard)
	return code, err == nil && code >= 0
}
