package spec

import (
	"fmt"
	"path"
	"slices"

	"github.com/berth-project/berth/internal/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// ExecOptions are `berth exec`'s flags as data.
type ExecOptions struct {
	Args       []string // the command
	Env        []string // -e KEY=VALUE over the container's environment
	User       string   // -u, resolved against Users; "" keeps the container's
	WorkingDir string   // -w, absolute; "" keeps the container's
	TTY        bool     // -t
	Privileged bool     // --privileged: every capability of HostCapabilities
	// HostCapabilities are those the caller can give (see
	// RunOptions.HostCapabilities); nil is AllCapabilities.
	HostCapabilities []string
}

// ExecProcess returns the process `exec` runs in a container whose own
// process is base: base's environment, user, cwd, capabilities, rlimits
// and no_new_privs, with o's changes, as docker's exec does.
func ExecProcess(base *specs.Process, o ExecOptions, users Users) (*specs.Process, error) {
	if len(o.Args) == 0 {
		return nil, fmt.Errorf("exec: no command: %w", errdefs.ErrInvalidArgument)
	}
	p := *base
	p.Args = slices.Clone(o.Args)
	p.Terminal = o.TTY
	p.ConsoleSize = nil
	env := slices.Clone(base.Env)
	for _, e := range o.Env {
		k := envKey(e)
		if k == "" {
			return nil, fmt.Errorf("environment variable %q: empty name: %w", e, errdefs.ErrInvalidArgument)
		}
		env = slices.DeleteFunc(env, func(x string) bool { return envKey(x) == k })
		env = append(env, e)
	}
	if o.TTY && !slices.ContainsFunc(env, func(x string) bool { return envKey(x) == "TERM" }) {
		env = append(env, "TERM=xterm")
	}
	p.Env = env
	if o.WorkingDir != "" {
		if !path.IsAbs(o.WorkingDir) {
			return nil, fmt.Errorf("the working directory %q is not absolute: %w", o.WorkingDir, errdefs.ErrInvalidArgument)
		}
		p.Cwd = path.Clean(o.WorkingDir)
	}
	if o.User != "" {
		u, err := resolveUser(o.User, nil, users)
		if err != nil {
			return nil, err
		}
		u.Umask = base.User.Umask
		p.User = u
	}
	if o.Privileged {
		all := slices.Clone(AllCapabilities)
		if o.HostCapabilities != nil {
			all = slices.Clone(o.HostCapabilities)
		}
		p.Capabilities = &specs.LinuxCapabilities{Bounding: all, Effective: all, Permitted: all}
	} else if base.Capabilities != nil {
		c := *base.Capabilities
		p.Capabilities = &c
	}
	return &p, nil
}
