package engine

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/berth-project/berth/internal/containerlog"
	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/monitor"
)

// LogsOptions are `berth logs`'s flags.
type LogsOptions struct {
	Since, Until time.Time
	Tail         int // -1 all
	Follow       bool
	Timestamps   bool
}

// Logs copies the container's log to stdout and stderr by stream.
func (e *Engine) Logs(ctx context.Context, s string, o LogsOptions, stdout, stderr io.Writer) error {
	c, err := e.container(s)
	if err != nil {
		return err
	}
	if c.Log.Driver == monitor.DriverNone {
		return fmt.Errorf("container %s keeps no logs (log driver none): %w", c.Name, errdefs.ErrFailedPrecondition)
	}
	return containerlog.Read(ctx, c.Log.Path, c.Log.Driver, containerlog.Options{
		Since: o.Since, Until: o.Until, Tail: o.Tail, Follow: o.Follow, Timestamps: o.Timestamps,
		Done: func() bool {
			if _, err := os.Stat(e.exitFile(c.ID)); err == nil {
				return true
			}
			st := e.State(ctx, c)
			return st.Status == StatusExited || st.Status == StatusCreated && st.MonitorPid == 0
		},
	}, stdout, stderr)
}

// PruneContainers removes every exited (or created, never started)
// container and returns their IDs.
func (e *Engine) PruneContainers(ctx context.Context) ([]string, error) {
	cs, err := e.Containers(ctx, true, nil)
	if err != nil {
		return nil, err
	}
	var removed []string
	for _, c := range cs {
		if c.State.Status != StatusExited && !(c.State.Status == StatusCreated && c.State.MonitorPid == 0) {
			continue
		}
		if err := e.removeContainer(ctx, c.Container, false); err != nil {
			return removed, err
		}
		removed = append(removed, c.ID)
	}
	return removed, nil
}
