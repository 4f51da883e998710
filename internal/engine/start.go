package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/linux/mount"
	"github.com/berth-project/berth/internal/linux/netns"
	"github.com/berth-project/berth/internal/monitor"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Start starts the container the user's word s names, handing it to a new
// berth-monitor, and returns once it runs (the monitor stays; this process
// may exit). A running container is left as it is; an exited one runs
// again.
func (e *Engine) Start(ctx context.Context, s string) (Container, error) {
	c, err := e.container(s)
	if err != nil {
		return c, err
	}
	_, err = e.launch(ctx, c, false)
	return c, err
}

// StartAttached starts c with its monitor holding it back, attaches to it,
// then lets it run, so that the caller sees all of its output (a
// foreground `run`, `start -a`).
func (e *Engine) StartAttached(ctx context.Context, s string) (Container, *monitor.AttachConn, error) {
	c, err := e.container(s)
	if err != nil {
		return c, nil, err
	}
	started, err := e.launch(ctx, c, true)
	if err != nil {
		return c, nil, err
	}
	if !started {
		conn, err := monitor.Attach(e.runDir(c.ID))
		return c, conn, err
	}
	conn, err := monitor.Attach(e.runDir(c.ID))
	if err != nil {
		e.Stop(context.Background(), c.ID, 0)
		return c, nil, err
	}
	if _, err := monitor.Start(ctx, e.runDir(c.ID)); err != nil {
		conn.Close()
		e.Stop(context.Background(), c.ID, 0)
		return c, nil, err
	}
	return c, conn, nil
}

// launch readies c's rootfs and namespaces and launches its monitor;
// started reports whether it did (false: it was running already).
func (e *Engine) launch(ctx context.Context, c Container, waitStart bool) (started bool, err error) {
	// The monitor of the last run may still be finishing (its exit
	// command waits for this lock) after writing the exit file: it would
	// remove the new monitor's sockets and pid file, which have the same
	// paths. Let it go first.
	run := e.runDir(c.ID)
	if pid := pidAlive(filepath.Join(run, monitor.PidFile)); pid != 0 && e.State(ctx, c).Status == StatusExited {
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		_ = waitProcessExit(wctx, pid, run)
		cancel()
	}
	unlock, err := e.lockContainer(ctx, c.ID)
	if err != nil {
		return false, err
	}
	defer unlock()
	st := e.State(ctx, c)
	switch st.Status {
	case StatusRunning, StatusPaused, StatusRestarting:
		return false, nil
	}
	mon, err := findBinary("berth-monitor")
	if err != nil {
		return false, fmt.Errorf("berth-monitor: not found beside berth nor in $PATH: %w", errdefs.ErrNotFound)
	}
	rt := e.runtimeFor(c)
	// What an earlier run left: the runtime's record, the exit record. Only
	// a monitor launched below makes a runtime record, after its run
	// directory exists, and both live under the run root: without the
	// directory (a container never started, or a reboot since) there is no
	// record, and no runtime process to spend on deleting it.
	if _, err := os.Stat(run); !errors.Is(err, os.ErrNotExist) {
		if err := rt.Delete(ctx, c.ID, true); err != nil && !errdefs.IsNotFound(err) {
			return false, fmt.Errorf("remove the previous run of %s: %w", c.Name, err)
		}
	}
	if err := os.Remove(e.exitFile(c.ID)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return false, err
	}
	// Attachments a crash left — this container's (in its run directory)
	// and other containers' — go before new ones are made.
	if err := e.networksBeforeStart(ctx, c); err != nil {
		return false, err
	}
	if err := os.RemoveAll(run); err != nil {
		return false, err
	}
	if err := os.MkdirAll(run, 0o700); err != nil {
		return false, err
	}

	var undo undoStack
	defer func() {
		if err != nil {
			undo.run()
		}
	}()
	if c.NetNS != "" && !mounted(c.NetNS) {
		_ = os.Remove(c.NetNS) // a file left without its namespace (a reboot)
		if err := netns.New(c.NetNS); err != nil {
			return false, err
		}
	}
	if strings.HasPrefix(c.Network, "container:") {
		if err := e.joinNetworkOf(ctx, c); err != nil {
			return false, err
		}
	}
	rootfs := e.rootfs(c.ID)
	if !mounted(rootfs) {
		ms, err := e.snap.Mounts(ctx, c.Snapshot)
		if err != nil {
			return false, fmt.Errorf("root filesystem of %s: %w", c.Name, err)
		}
		if err := mount.All(ms, rootfs); err != nil {
			return false, fmt.Errorf("mount the root filesystem of %s: %w", c.Name, err)
		}
		undo.push(func() { mount.Unmount(rootfs) })
	}
	if err := e.attachNetworks(ctx, c); err != nil {
		return false, err
	}
	undo.push(func() { e.detachNetworks(context.WithoutCancel(ctx), c) })
	cfg := &monitor.Config{
		ID: c.ID, Bundle: e.containerDir(c.ID), RunDir: run,
		Runtime:   monitor.RuntimeConfig{Path: c.Runtime, Root: e.runtimeRoot(c.RuntimeName)},
		Log:       c.Log,
		Stdin:     c.OpenStdin,
		WaitStart: waitStart,
		ExitFile:  e.exitFile(c.ID),
		Restart:   c.Restart,
		Health:    c.Health,
	}
	if len(e.cfg.CleanupCommand) > 0 {
		cfg.ExitCommand = append(append([]string{}, e.cfg.CleanupCommand...), c.ID)
	}
	l, err := monitor.Launch(ctx, mon, cfg)
	if err != nil {
		return false, fmt.Errorf("start %s: %w", c.Name, err)
	}
	l.Process.Release()
	e.containerEvent(nil, c, "start")
	return true, nil
}

// joinNetworkOf points c's spec at the network namespace of the container
// it shares one with, as it runs now (its pid changes with each start).
func (e *Engine) joinNetworkOf(ctx context.Context, c Container) error {
	other, err := e.container(strings.TrimPrefix(c.Network, "container:"))
	if err != nil {
		return fmt.Errorf("--network %s: %w", c.Network, err)
	}
	st := e.State(ctx, other)
	if !st.Running {
		return fmt.Errorf("--network container:%s: that container is not running: %w", other.Name, errdefs.ErrFailedPrecondition)
	}
	path := filepath.Join(e.containerDir(c.ID), "config.json")
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var s specs.Spec
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	for i, n := range s.Linux.Namespaces {
		if n.Type == specs.NetworkNamespace {
			s.Linux.Namespaces[i].Path = "/proc/" + strconv.Itoa(st.Pid) + "/ns/net"
		}
	}
	return writeSpec(e.containerDir(c.ID), &s)
}

// Attach connects to the running container the user's word s names.
func (e *Engine) Attach(ctx context.Context, s string) (Container, *monitor.AttachConn, error) {
	c, err := e.container(s)
	if err != nil {
		return c, nil, err
	}
	if st := e.State(ctx, c); !st.Running {
		return c, nil, fmt.Errorf("you cannot attach to a stopped container, start it first: %w", errdefs.ErrFailedPrecondition)
	}
	conn, err := monitor.Attach(e.runDir(c.ID))
	return c, conn, err
}
