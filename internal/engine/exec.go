package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/linux/pathrs"
	"github.com/berth-project/berth/internal/ociruntime"
	"github.com/berth-project/berth/internal/spec"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// ExecOptions are `berth exec`'s flags.
type ExecOptions struct {
	spec.ExecOptions
	Detach bool
	// Stdin, Stdout and Stderr are the process's stdio (with a terminal,
	// the runtime proxies it through them).
	Stdin, Stdout, Stderr *os.File
}

// Exec runs a process in the running container the user's word s names
// and returns its exit code (0 at once with Detach).
func (e *Engine) Exec(ctx context.Context, s string, o ExecOptions) (int, error) {
	c, err := e.container(s)
	if err != nil {
		return 0, err
	}
	if st := e.State(ctx, c); st.Status != StatusRunning {
		return 0, fmt.Errorf("container %s is %s, not running: %w", c.Name, st.Status, errdefs.ErrFailedPrecondition)
	}
	base, err := readProcess(e.containerDir(c.ID))
	if err != nil {
		return 0, err
	}
	var users spec.Users
	if o.User != "" {
		if users, err = readUsersAt(e.rootfs(c.ID)); err != nil {
			return 0, err
		}
	}
	o.HostCapabilities = hostCapabilities()
	p, err := spec.ExecProcess(base, o.ExecOptions, users)
	if err != nil {
		return 0, err
	}
	e.execEvents(c, p)
	return e.runtimeFor(c).Exec(ctx, c.ID, p, ociruntime.ExecOpts{
		Detach: o.Detach, Stdin: o.Stdin, Stdout: o.Stdout, Stderr: o.Stderr,
	})
}

// readProcess reads the process of the bundle in dir.
func readProcess(dir string) (*specs.Process, error) {
	b, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		return nil, err
	}
	var s specs.Spec
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%s/config.json: %w", dir, err)
	}
	if s.Process == nil {
		return nil, fmt.Errorf("%s/config.json: no process: %w", dir, errdefs.ErrFailedPrecondition)
	}
	return s.Process, nil
}

// readUsersAt reads /etc/passwd and /etc/group of the mounted rootfs,
// resolved inside it.
func readUsersAt(rootfs string) (spec.Users, error) {
	var u spec.Users
	root, err := pathrs.OpenRoot(rootfs)
	if err != nil {
		return u, err
	}
	defer root.Close()
	read := func(p string) ([]byte, error) {
		f, err := root.Open(p, os.O_RDONLY)
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read the container's %s: %w", p, err)
		}
		defer f.Close()
		return io.ReadAll(io.LimitReader(f, 4<<20))
	}
	if u.Passwd, err = read("/etc/passwd"); err != nil {
		return u, err
	}
	u.Group, err = read("/etc/group")
	return u, err
}
