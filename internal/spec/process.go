package spec

import (
	"fmt"
	"path"
	"slices"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/berth-project/berth/internal/errdefs"
)

// DefaultPathEnv is the PATH a container gets when its image sets none
// (moby daemon/pkg/oci/defaults.go).
const DefaultPathEnv = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// args merges the image's Entrypoint and Cmd with the run options' as
// docker's merge and mergeAndVerifyConfig do: an --entrypoint replaces the
// image's entrypoint and drops its Cmd; otherwise Cmd arguments replace
// the image's Cmd. [""] is no entrypoint. Nothing left to run is an error.
func args(img ocispec.ImageConfig, opts RunOptions) ([]string, error) {
	entrypoint, cmd := img.Entrypoint, opts.Cmd
	if opts.Entrypoint != nil {
		entrypoint = *opts.Entrypoint
	} else if len(cmd) == 0 {
		cmd = img.Cmd
	}
	if len(entrypoint) == 1 && entrypoint[0] == "" {
		entrypoint = nil
	}
	out := append(slices.Clone(entrypoint), cmd...)
	if len(out) == 0 {
		return nil, fmt.Errorf("no command specified: %w", errdefs.ErrInvalidArgument)
	}
	if out[0] == "" {
		return nil, fmt.Errorf("command %q: empty executable name: %w", out, errdefs.ErrInvalidArgument)
	}
	return out, nil
}

// envKey is the name part of KEY=VALUE (or of a bare KEY).
func envKey(e string) string {
	k, _, _ := strings.Cut(e, "=")
	return k
}

// environment builds the process environment as docker does: the run
// options' variables, then the image's that they do not name (docker's
// merge), laid over PATH=DefaultPathEnv, HOSTNAME and, with a terminal,
// TERM=xterm (CreateDaemonEnvironment and ReplaceOrAppendEnvValues): a
// variable with one of those names replaces it in place, a bare KEY removes
// it, the rest follow in order.
func environment(img ocispec.ImageConfig, opts RunOptions, hostname string) ([]string, error) {
	for _, e := range opts.Env {
		if envKey(e) == "" {
			return nil, fmt.Errorf("environment variable %q: empty name: %w", e, errdefs.ErrInvalidArgument)
		}
	}
	config := slices.Clone(opts.Env)
	for _, e := range img.Env {
		k := envKey(e)
		if k == "" || !strings.Contains(e, "=") {
			continue
		}
		if !slices.ContainsFunc(opts.Env, func(u string) bool { return envKey(u) == k }) {
			config = append(config, e)
		}
	}

	env := []string{"PATH=" + DefaultPathEnv, "HOSTNAME=" + hostname}
	if opts.TTY {
		env = append(env, "TERM=xterm")
	}
	defaults := len(env)
	removed := make([]bool, defaults)
	for _, e := range config {
		k, _, set := strings.Cut(e, "=")
		i := slices.IndexFunc(env[:defaults], func(d string) bool { return envKey(d) == k })
		switch {
		case !set && i >= 0:
			removed[i] = true
		case !set:
			// A bare KEY names nothing to keep.
		case i >= 0:
			env[i], removed[i] = e, false
		default:
			// A key given twice (--env-file, then -e) keeps the later
			// value, in the first one's place, as docker's
			// ReplaceOrAppendEnvValues.
			if j := slices.IndexFunc(env[defaults:], func(d string) bool { return envKey(d) == k }); j >= 0 {
				env[defaults+j] = e
			} else {
				env = append(env, e)
			}
		}
	}
	out := env[:0]
	for i, e := range env {
		if i < defaults && removed[i] {
			continue
		}
		out = append(out, e)
	}
	return out, nil
}

// workingDir is --workdir (which must be absolute), else the image's
// WORKDIR (a relative one is taken from /, as the builder joins it), else
// "/".
func workingDir(img ocispec.ImageConfig, opts RunOptions) (string, error) {
	if opts.WorkingDir != "" {
		if !path.IsAbs(opts.WorkingDir) {
			return "", fmt.Errorf("the working directory %q is invalid, it needs to be an absolute path: %w", opts.WorkingDir, errdefs.ErrInvalidArgument)
		}
		return path.Clean(opts.WorkingDir), nil
	}
	if img.WorkingDir != "" {
		return path.Join("/", img.WorkingDir), nil
	}
	return "/", nil
}
