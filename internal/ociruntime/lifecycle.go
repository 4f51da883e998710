package ociruntime

import (
	"context"
	"os"
	"strconv"
	"syscall"
)

// CreateOpts are the flags of `create` and the streams handed to it.
type CreateOpts struct {
	// PidFile receives the container process's pid (--pid-file).
	PidFile string
	// ConsoleSocket is the unix socket that receives the pty master when
	// the process has a terminal (--console-socket; see ConsoleSocket).
	ConsoleSocket string
	// NoPivot uses MS_MOVE and chroot instead of pivot_root (--no-pivot).
	NoPivot bool
	// NoNewKeyring keeps the caller's session keyring (--no-new-keyring).
	NoNewKeyring bool
	// Stdin, Stdout and Stderr become the container process's streams
	// (pass-through); nil is /dev/null for stdin and a capture for the
	// others.
	Stdin, Stdout, Stderr *os.File
	// ExtraFiles are passed to the container from fd 3 on (--preserve-fds).
	ExtraFiles []*os.File
}

// Create creates container id from the OCI bundle at bundle: its process
// waits for Start.
func (r *Runtime) Create(ctx context.Context, id, bundle string, o CreateOpts) error {
	args := []string{"create", "--bundle", bundle}
	if o.PidFile != "" {
		args = append(args, "--pid-file", o.PidFile)
	}
	if o.ConsoleSocket != "" {
		args = append(args, "--console-socket", o.ConsoleSocket)
	}
	if o.NoPivot {
		args = append(args, "--no-pivot")
	}
	if o.NoNewKeyring {
		args = append(args, "--no-new-keyring")
	}
	if len(o.ExtraFiles) > 0 {
		args = append(args, "--preserve-fds", strconv.Itoa(len(o.ExtraFiles)))
	}
	_, err := r.run(ctx, call{op: "create", id: id, args: append(args, id),
		stdin: o.Stdin, stdout: o.Stdout, stderr: o.Stderr, extra: o.ExtraFiles})
	return err
}

// Start lets a created container's process run its program.
func (r *Runtime) Start(ctx context.Context, id string) error {
	return r.simple(ctx, "start", id)
}

// Kill sends sig to the container's process, or with all to every process
// of the container.
func (r *Runtime) Kill(ctx context.Context, id string, sig syscall.Signal, all bool) error {
	args := []string{"kill"}
	if all {
		args = append(args, "--all")
	}
	_, err := r.run(ctx, call{op: "kill", id: id, args: append(args, id, strconv.Itoa(int(sig)))})
	return err
}

// Delete removes a stopped container's state and cgroup; force kills a
// running one first.
func (r *Runtime) Delete(ctx context.Context, id string, force bool) error {
	args := []string{"delete"}
	if force {
		args = append(args, "--force")
	}
	_, err := r.run(ctx, call{op: "delete", id: id, args: append(args, id)})
	return err
}

// Pause freezes every process of the container.
func (r *Runtime) Pause(ctx context.Context, id string) error {
	return r.simple(ctx, "pause", id)
}

// Resume thaws a paused container.
func (r *Runtime) Resume(ctx context.Context, id string) error {
	return r.simple(ctx, "resume", id)
}

func (r *Runtime) simple(ctx context.Context, verb, id string) error {
	_, err := r.run(ctx, call{op: verb, id: id, args: []string{verb, id}})
	return err
}
