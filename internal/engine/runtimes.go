package engine

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/berth-project/berth/internal/errdefs"
)

// findRuntime resolves --runtime: "" is the settings' default runtime, or
// berth-runtime; a name is looked up in the settings' [runtimes], then
// beside the berth binary, then in $PATH; a path is taken as it is.
func (e *Engine) findRuntime(name string) (path, short string, err error) {
	if name == "" {
		name = e.settings.Engine.Runtime
	}
	if name == "" {
		name = "berth-runtime"
	}
	if p, ok := e.settings.Runtimes[name]; ok {
		if _, err := os.Stat(p); err != nil {
			return "", "", fmt.Errorf("runtime %s (%s, from the settings): %w", name, p, errdefs.ErrNotFound)
		}
		return p, name, nil
	}
	if strings.Contains(name, "/") {
		abs, err := filepath.Abs(name)
		if err != nil {
			return "", "", err
		}
		if _, err := os.Stat(abs); err != nil {
			return "", "", fmt.Errorf("runtime %s: %w", name, errdefs.ErrNotFound)
		}
		return abs, filepath.Base(abs), nil
	}
	p, err := findBinary(name)
	if err != nil {
		return "", "", fmt.Errorf("OCI runtime %q: not found beside berth nor in $PATH: %w", name, errdefs.ErrNotFound)
	}
	return p, name, nil
}

// findBinary finds a helper binary: beside the running berth first (a
// build's bin/ or an install's prefix), then in $PATH.
func findBinary(name string) (string, error) {
	if self, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(self), name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p, nil
		}
	}
	return exec.LookPath(name)
}

// findInit finds the init that --init runs as pid 1: catatonit (podman's)
// or tini (docker's), as Debian installs them.
func findInit() (string, error) {
	for _, p := range []string{"/usr/libexec/podman/catatonit", "/usr/bin/catatonit", "/usr/bin/tini-static", "/usr/bin/tini"} {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("--init: no init binary (install catatonit or tini): %w", errdefs.ErrNotFound)
}
