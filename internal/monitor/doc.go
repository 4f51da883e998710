// Package monitor is berth-monitor, the small process that stays with one
// container for its whole life (as conmon does for Podman), and the
// engine's side of its contract: Launch, Attach, Control/Start/Stop and the
// readers of its files.
//
// The monitor is the parent and subreaper (PR_SET_CHILD_SUBREAPER) of the
// container's process. It has the OCI runtime (internal/ociruntime) create
// and start the container, holds its stdio, writes its log, serves attach,
// records the exit code and time, applies the restart policy, runs the
// health check and runs the exit command. Every `berth` command is short:
// the engine can exit as soon as the monitor has reported.
//
// # Starting a monitor
//
// The engine makes a run directory (e.g. /run/berth/containers/<id>) and
// calls Launch, which writes <run-dir>/monitor.json (Config) and runs
//
//	berth-monitor <run-dir>
//
// with Setsid, stdin/stdout/stderr on /dev/null, its working directory the
// run directory, GOMAXPROCS=1 (memory: see docs/performance.md; dropped
// again before the monitor runs anything), and the write end of a sync pipe as fd 3 (made
// close-on-exec at once, so no runtime or container inherits it). The
// monitor writes exactly one JSON line on the pipe and closes it:
//
//	{"status":"running","pid":1234}          created and started (or "created" with WaitStart)
//	{"error":"runc create \"c1\": …","class":"not found"}   it could not; nothing is left
//
// "error" is the runtime's own message (see ociruntime.Error), "class" the
// errdefs class (errdefs.ErrNotFound.Error() …), which Launch turns back
// into a classed error. After an error the monitor has removed what it
// made (the runtime's container, hence its cgroup, and its process, and its
// sockets) and exits 1; Launch waits for that exit. A monitor that dies
// before reporting is ErrUnavailable with the last line of monitor.log.
//
// When the container is done the monitor leaves it stopped in the runtime:
// the exit command (or the engine) deletes it, and unmounts its rootfs.
//
// # The run directory
//
//	monitor.json   Config (written by Launch)
//	monitor.pid    the monitor's pid, while it runs
//	monitor.log    the monitor's own diagnostics (its stderr), and the exit command's output
//	runtime.log    the OCI runtime's JSON log (every call, appended)
//	container.pid  the container's pid from `create --pid-file`, while it exists
//	state.json     State: status created|running|restarting|exited, pid, restartCount,
//	               startedAt, finishedAt, exitCode, error, logError; rewritten atomically
//	exit           Exit (Config.ExitFile): exitCode, exitedAt, restartCount, error —
//	               written once, atomically, when no restart follows
//	health.json    Health, as docker's .State.Health (when Config.Health is set)
//	ctr.log        the container log (Config.Log.Path), with ctr.log.1 … when rotated
//	attach, ctl    the sockets (in Config.SocketDir, by default the run directory)
//
// # Attach protocol
//
// <socket-dir>/attach is a SOCK_SEQPACKET unix socket; any number of
// clients may connect, at any time. Every packet is one byte of kind and a
// payload of at most 8 KiB (MaxPacket in all):
//
//	monitor → client  1 stdout data (everything, with a terminal)
//	                  2 stderr data
//	                  3 exit: ASCII exit code; the monitor then hangs up
//	client → monitor  0 stdin data (ignored unless Config.Stdin)
//	                  4 close stdin (EOT, ^D, on a terminal)
//	                  5 terminal size, ASCII "<rows> <cols>"
//
// Output is live only: nothing is replayed (read the log for that), so a
// client that must see everything attaches to a monitor launched with
// WaitStart and then sends "start". A client that leaves output unread for
// 10 s is dropped, so that it cannot stall the container. Each exit of the
// process (restarts included) ends every attach connection; the exit packet
// comes once state.json (and the exit file, when no restart follows) says
// so, so that a client that saw it finds the container exited.
//
// # Control protocol, stop and restart
//
// <socket-dir>/ctl is a SOCK_SEQPACKET unix socket: one JSON Request, one
// JSON Reply per connection. "start" starts a WaitStart container; "status"
// reports; "stop" tells the monitor to restart no more. The engine stops a
// container thus (Stop does the first step):
//
//  1. send "stop"; the reply comes once no restart is under way, with the
//     status then: "running"/"created" (the process that will be the last
//     runs), or "exited" (it was waiting to restart: it is done now);
//  2. for running/created: the runtime's kill with the stop signal, then
//     SIGKILL after the timeout — the engine never signals the monitor;
//  3. wait for the exit file (the monitor then runs the exit command and
//     exits).
//
// SIGTERM or SIGINT to the monitor counts as "stop" (no more restarts); it
// forwards no signal and stays until the container exits. SIGHUP is
// ignored.
//
// The restart policy is docker's: on-failure[:N] restarts after a non-zero
// exit, at most N times; always and unless-stopped after any exit (the
// engine tells these two apart when it starts containers at boot). A
// restart is the runtime's delete, create and start of the same bundle,
// after docker's delay: 100 ms, doubled at each restart up to 1 minute,
// back to 100 ms after a run of 10 s or more. state.json counts restarts.
//
// # Health checks
//
// Config.Health runs ["CMD", …] or ["CMD-SHELL", cmd] (/bin/sh -c) in the
// container with the runtime's exec, detached, as the bundle's process
// (its user, env, cwd), every Interval (StartInterval during StartPeriod);
// the monitor reaps it and kills it after Timeout (exit code -1). The
// status follows docker: "starting"; "healthy" after a success;
// "unhealthy" after Retries failures in a row, failures in the start
// period not counting while still starting. The last 5 probes (4 KiB of
// output each) are in health.json. Each (re)start begins at "starting".
//
// # Logs
//
// The log driver writes one record per line of output; a read's
// unterminated tail is a partial record that the next record of the same
// stream continues:
//
//	k8s-file   2006-01-02T15:04:05.000000000Z07:00 stdout F a full line
//	           2006-01-02T15:04:05.000000000Z07:00 stdout P a partial li
//	json-file  {"log":"a full line\n","stream":"stdout","time":"2006-01-02T15:04:05.999999999Z"}
//	           {"log":"a partial li","stream":"stdout","time":"…"}
//
// With MaxSize the monitor rotates before a record would pass it: path.N-2
// → path.N-1, …, path → path.1, an empty path; path.<MaxFiles-1> is the
// oldest kept. A record is never split across files, so a reader that
// follows a rename (logs -f) loses nothing. A failed write (disk full) drops
// that output, keeps the container running and is reported in monitor.log
// and state.json's logError.
//
// # The monitor's own death
//
// A monitor killed with SIGKILL leaves its container running (it is
// reparented to the next subreaper or init). No exit file is written and
// no restart or exit command happens; the truth is then the runtime's:
// the engine reads ociruntime.State (running, or stopped) and cleans up
// itself; Stop on a dead monitor answers "exited".
//
// # Example (the engine's side)
//
//	cfg := &monitor.Config{ID: id, Bundle: bundle, RunDir: runDir,
//		Runtime: monitor.RuntimeConfig{Path: "berth-runtime", Root: "/run/berth/runtime-berth"},
//		Log:     monitor.LogConfig{MaxSize: 10 << 20, MaxFiles: 3},
//		Restart: monitor.RestartPolicy{Name: "on-failure", MaximumRetryCount: 5},
//		ExitCommand: []string{"/usr/bin/berth", "container", "cleanup", id}}
//	l, err := monitor.Launch(ctx, "/usr/libexec/berth/berth-monitor", cfg)
//	if err != nil { … } // classed; nothing left
//	l.Process.Release()  // and exit; the monitor stays
//	…
//	rep, err := monitor.Stop(ctx, cfg.SocketDir) // later, from `berth stop`
//	if rep.Status == monitor.StatusRunning { rt.Kill(ctx, id, syscall.SIGTERM, false) }
//	ex, err := monitor.ReadExit(cfg.ExitFile)
package monitor
