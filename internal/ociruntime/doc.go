// Package ociruntime drives an OCI runtime binary through runc's command
// line: berth-runtime by default, runc, or any runtime that follows runc's
// verbs, flags and JSON formats. It is how the engine and berth-monitor
// create, start, signal, inspect and delete containers; it never touches a
// container itself.
//
// A Runtime names the binary and its state root (--root, one per engine
// and runtime name, e.g. /run/berth/runtime-runc). Every call runs the
// binary once with the global flags
//
//	--root <Root> --log <a private file of the call> --log-format json <verb> …
//
// and never --systemd-cgroup: Berth's bundles name cgroupfs paths.
//
// # Errors
//
// A failed call returns an *Error carrying the runtime's own words: the
// last "error" (or "fatal") line of the call's JSON log, else what the
// runtime wrote on stderr, else its exit status. The error is classed with
// internal/errdefs from those words, so callers test errors.Is:
//
//	"container \"x\" does not exist", "not found", "no such" → errdefs.ErrNotFound
//	"already exists", "container with id exists"           → errdefs.ErrAlreadyExists
//	"not running", "not stopped", "it is stopped", …        → errdefs.ErrFailedPrecondition
//	"invalid"                                              → errdefs.ErrInvalidArgument
//
// # Standard streams
//
// Create and Exec hand the caller's Stdin, Stdout and Stderr to the runtime
// as its own, and an OCI runtime passes them through to the container's
// process (runc's "pass-through" mode) unless the process has a terminal,
// in which case the runtime sends the pty master to ConsoleSocket
// instead (see ConsoleSocket). Note that a runtime's own warnings then
// land in the container's stderr, as under conmon; its errors are read
// from the log.
//
// # Who waits for the runtime
//
// By default each call runs the binary with os/exec and waits for it. A
// process that reaps every child itself — berth-monitor is the subreaper
// of its containers and calls wait4(-1) — must supply a Runner, so that no
// exit status is reaped twice. A Runner is only ever given an *exec.Cmd
// whose Stdin, Stdout and Stderr are nil or *os.File, so it needs no
// copying goroutines and may skip exec.Cmd.Wait.
//
// # Example
//
//	rt := &ociruntime.Runtime{Path: "berth-runtime", Root: "/run/berth/runtime-berth"}
//	err := rt.Create(ctx, id, bundle, ociruntime.CreateOpts{
//		PidFile: filepath.Join(runDir, "container.pid"),
//		Stdout:  outW, Stderr: errW, // pipes the caller reads
//	})
//	if errors.Is(err, errdefs.ErrAlreadyExists) { … }
//	err = rt.Start(ctx, id)
//	st, err := rt.State(ctx, id) // st.Status == "running", st.Pid
//	err = rt.Kill(ctx, id, syscall.SIGTERM, false)
//	err = rt.Delete(ctx, id, true)
package ociruntime
