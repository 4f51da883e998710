package runtime

import (
	"fmt"
	"log/slog"
	"os"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/linux/cgroups"
)

// Runtime is berth-runtime with its global options.
type Runtime struct {
	Root     string // state directory (--root)
	Rootless bool   // act as an unprivileged user (--rootless)
	Log      *slog.Logger
}

// DefaultRoot is the state directory for root.
const DefaultRoot = "/run/berth-runtime"

// ensureRoot creates the state directory, with a clear error when it cannot.
func (r *Runtime) ensureRoot() error {
	if err := os.MkdirAll(r.Root, 0o711); err != nil {
		return fmt.Errorf("state directory %s: %w", r.Root, err)
	}
	if err := unixAccess(r.Root); err != nil {
		return fmt.Errorf("state directory %s is not writable: %w", r.Root, errdefs.ErrFailedPrecondition)
	}
	return nil
}

func (r *Runtime) warn(msg string, args ...any) {
	if r.Log != nil {
		r.Log.Warn(fmt.Sprintf(msg, args...))
	}
}

func (r *Runtime) debug(msg string, args ...any) {
	if r.Log != nil {
		r.Log.Debug(fmt.Sprintf(msg, args...))
	}
}

// cgroupManager loads the manager of an existing container.
func (c *Container) cgroupManager() (*cgroups.Manager, error) {
	if len(c.State.CgroupPaths) == 0 {
		return nil, nil
	}
	return cgroups.Load(c.State.CgroupPaths, c.State.Rootless)
}

// frozen reports whether the container's cgroup is frozen.
func (c *Container) frozen() bool {
	m, err := c.cgroupManager()
	if err != nil || m == nil {
		return false
	}
	st, err := m.FreezerState()
	return err == nil && st == "FROZEN"
}
