package monitor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/ociruntime"
)

// drainGrace is how long the output of an exited container may stay
// silent before its pipes are closed (a process outside the container's
// pid namespace may hold them open for ever).
const drainGrace = 2 * time.Second

// monitor is one container's monitor; its main loop (loop) owns the
// container's life, other goroutines read output, serve sockets and run
// health checks.
type monitor struct {
	cfg      *Config
	rt       *ociruntime.Runtime
	reaper   *reaper
	terminal bool
	process  json.RawMessage // the bundle's, the template of health checks
	log      *logFile
	attach   *attachServer
	ctl      *controlServer
	calls    chan ctlCall
	loopDone chan struct{}

	mu    sync.Mutex // guards state and the state file
	state State

	ioMu   sync.Mutex // guards stdin and master
	stdin  *os.File   // the current run's stdin pipe or pty master, or nil
	master *os.File   // the current run's pty master, or nil

	cur           *run
	stopRequested bool
	// exitUntold: the last process's exit is for finish to send to the
	// attach clients, once the exit file is written.
	exitUntold bool
}

// Main is berth-monitor: `berth-monitor <run-dir>`, with the sync pipe
// on fd 3. It returns the process's exit code: 0 once the container is
// done, 1 when it could not be created or started (the sync message says
// why), 2 for bad usage.
func Main(args []string) int {
	// One P: the monitor mostly sleeps; every P and the thread that runs it
	// cost memory, which each container's monitor pays (docs/performance.md).
	// Launch sets GOMAXPROCS=1, which is cheaper still; the runtime and the
	// exit command get the default back.
	runtime.GOMAXPROCS(1)
	_ = os.Unsetenv("GOMAXPROCS")
	sync := syncPipe()
	if len(args) != 2 || strings.HasPrefix(args[1], "-") {
		fmt.Fprintln(os.Stderr, "usage: berth-monitor <run-dir>  (reads <run-dir>/monitor.json; sync pipe on fd 3)")
		return 2
	}
	cfg, err := ReadConfig(args[1])
	if err != nil {
		report(sync, errReply(err))
		return 1
	}
	if err := redirectStderr(filepath.Join(cfg.RunDir, DiagFile)); err != nil {
		report(sync, errReply(err))
		return 1
	}
	m := &monitor{cfg: cfg, calls: make(chan ctlCall), loopDone: make(chan struct{})}
	return m.main(sync)
}

// syncPipe returns fd 3 when the engine passed one, made close-on-exec
// so that no runtime or container inherits it.
func syncPipe() *os.File {
	var st unix.Stat_t
	if unix.Fstat(3, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFIFO {
		return nil
	}
	unix.CloseOnExec(3)
	return os.NewFile(3, "sync")
}

// report writes the sync message and closes the pipe.
func report(sync *os.File, rep Reply) {
	if sync == nil {
		if rep.Error != "" {
			fmt.Fprintln(os.Stderr, "berth-monitor:", rep.Error)
		}
		return
	}
	data, _ := json.Marshal(rep)
	_, _ = sync.Write(append(data, '\n'))
	_ = sync.Close()
}

func redirectStderr(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("monitor log: %w", err)
	}
	defer f.Close()
	if err := unix.Dup3(int(f.Fd()), 2, 0); err != nil {
		return fmt.Errorf("monitor log %s: %w", path, err)
	}
	return nil
}

// logf writes a diagnostic line to monitor.log.
func (m *monitor) logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s %s: %s\n", time.Now().Format(time.RFC3339Nano), m.cfg.ID, fmt.Sprintf(format, args...))
}

func (m *monitor) main(sync *os.File) int {
	cfg := m.cfg
	ctx := context.Background()
	if err := os.Chdir(cfg.RunDir); err != nil {
		report(sync, errReply(fmt.Errorf("run dir: %w", err)))
		return 1
	}
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		report(sync, errReply(fmt.Errorf("become a subreaper: %w", err)))
		return 1
	}
	m.reaper = newReaper()
	m.rt = &ociruntime.Runtime{
		Path: cfg.Runtime.Path, Root: cfg.Runtime.Root, Runner: m.reaper,
		Log: filepath.Join(cfg.RunDir, RuntimeLog), TempDir: cfg.RunDir,
	}
	term := make(chan os.Signal, 1)
	signal.Notify(term, unix.SIGTERM, unix.SIGINT)
	signal.Ignore(unix.SIGHUP, unix.SIGPIPE)
	m.state = State{MonitorPid: os.Getpid()}
	_ = writeAtomic(filepath.Join(cfg.RunDir, PidFile), []byte(strconv.Itoa(os.Getpid())+"\n"))

	if err := m.setup(); err != nil {
		m.fail(sync, err)
		return 1
	}
	if err := m.create(ctx); err != nil {
		m.fail(sync, err)
		return 1
	}
	if !cfg.WaitStart {
		if err := m.start(ctx); err != nil {
			m.fail(sync, err)
			return 1
		}
	}
	report(sync, Reply{Status: m.status(), Pid: m.cur.pid})
	m.logf("%s, pid %d", m.status(), m.cur.pid)

	failure := m.loop(ctx, term)
	m.finish(failure)
	return 0
}

// setup reads the bundle's process and opens the log and the sockets.
func (m *monitor) setup() error {
	cfg := m.cfg
	p := filepath.Join(cfg.Bundle, "config.json")
	data, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("bundle %s: no %s: %w", cfg.Bundle, p, errdefs.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("bundle %s: %w", cfg.Bundle, err)
	}
	// Only the process is read (decoding the whole spec would fill
	// encoding/json's type caches for good: memory every monitor keeps).
	var spec struct {
		Process json.RawMessage `json:"process"`
	}
	if err := json.Unmarshal(data, &spec); err != nil {
		return fmt.Errorf("bundle %s: %v: %w", p, err, errdefs.ErrInvalidArgument)
	}
	var proc struct {
		Terminal bool `json:"terminal"`
	}
	if len(spec.Process) == 0 || json.Unmarshal(spec.Process, &proc) != nil {
		return fmt.Errorf("bundle %s: no process: %w", p, errdefs.ErrInvalidArgument)
	}
	m.process, m.terminal = spec.Process, proc.Terminal
	if m.log, err = openLogFile(cfg.Log, m.logError); err != nil {
		return err
	}
	if m.attach, err = newAttachServer(filepath.Join(cfg.SocketDir, AttachSocket), m.input); err != nil {
		return err
	}
	m.ctl, err = newControlServer(filepath.Join(cfg.SocketDir, ControlSocket), m.calls, m.loopDone, m.finalReply)
	return err
}

// fail ends a monitor whose container could not be created or started:
// nothing of the container is left, the sync message names the error.
func (m *monitor) fail(sync *os.File, err error) {
	m.logf("%v", err)
	if m.cur != nil {
		// Created, but it could not start.
		if derr := m.rt.Delete(context.Background(), m.cfg.ID, true); derr != nil && !errdefs.IsNotFound(derr) {
			m.logf("remove the container: %v", derr)
		}
		m.endRun(m.cur, true)
		m.cur = nil
	} else if m.rt != nil {
		// A failed create may leave a stopped container behind (runc).
		_ = m.rt.Delete(context.Background(), m.cfg.ID, true)
	}
	m.mu.Lock()
	m.state.Status, m.state.Error, m.state.Pid = StatusExited, err.Error(), 0
	m.mu.Unlock()
	m.writeState()
	m.closeAll()
	_ = os.Remove(filepath.Join(m.cfg.RunDir, PidFile))
	report(sync, errReply(err))
}

// loop follows the container until it is done; it returns why it gave up
// restarting it, if it did.
func (m *monitor) loop(ctx context.Context, term <-chan os.Signal) error {
	defer close(m.loopDone)
	var backoff time.Duration
	var timer *time.Timer
	var timerC <-chan time.Time
	for {
		var exited <-chan syscall.WaitStatus
		if m.cur != nil {
			exited = m.cur.exited
		}
		select {
		case ws := <-exited:
			r := m.cur
			code := ociruntime.ExitCode(ws)
			m.logf("process %d exited: %d", r.pid, code)
			m.endRun(r, false)
			m.cur = nil
			m.mu.Lock()
			m.state.Pid, m.state.ExitCode, m.state.FinishedAt = 0, code, time.Now()
			ran := m.state.FinishedAt.Sub(m.state.StartedAt)
			restart := !m.stopRequested && m.shouldRestart(code)
			if restart {
				m.state.Status = StatusRestarting
			}
			m.mu.Unlock()
			// Attach clients hear of the exit once the state says so: a
			// foreground run's next command must see it exited (or
			// restarting), not running.
			if !restart {
				m.exitUntold = true
				return nil
			}
			backoff = nextBackoff(backoff, ran)
			m.writeState()
			m.attach.exit(code)
			m.logf("restarting in %v", backoff)
			timer = time.NewTimer(backoff)
			timerC = timer.C
		case <-timerC:
			timerC = nil
			m.mu.Lock()
			m.state.RestartCount++
			m.mu.Unlock()
			if err := m.restart(ctx); err != nil {
				m.logf("restart: %v", err)
				return err
			}
		case call := <-m.calls:
			call.reply <- m.serve(ctx, call.req)
			if call.req.Op == "stop" && timerC != nil {
				timer.Stop()
				return nil // stopped while waiting to restart
			}
		case <-term:
			m.logf("stop requested by signal: no more restarts")
			m.stopRequested = true
			if timerC != nil {
				timer.Stop()
				return nil
			}
		}
	}
}

// serve answers a control request in the main loop.
func (m *monitor) serve(ctx context.Context, req Request) Reply {
	switch req.Op {
	case "status":
	case "stop":
		m.stopRequested = true
	case "start":
		if m.status() != StatusCreated {
			return Reply{Status: m.status(), Error: fmt.Sprintf("container %q is %s, not created", m.cfg.ID, m.status()), Class: errdefs.ErrFailedPrecondition.Error()}
		}
		if err := m.start(ctx); err != nil {
			m.logf("start: %v", err)
			// The container cannot run: remove it; its init's exit ends
			// the loop, with no restart.
			m.stopRequested = true
			if derr := m.rt.Delete(ctx, m.cfg.ID, true); derr != nil {
				m.logf("remove the container: %v", derr)
			}
			m.mu.Lock()
			m.state.Error = err.Error()
			m.mu.Unlock()
			rep := errReply(err)
			rep.Status = m.status()
			return rep
		}
	default:
		return Reply{Status: m.status(), Error: fmt.Sprintf("unknown control request %q", req.Op), Class: errdefs.ErrInvalidArgument.Error()}
	}
	rep := Reply{Status: m.status()}
	if m.cur != nil {
		rep.Pid = m.cur.pid
	}
	return rep
}

func (m *monitor) status() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.state.Status
}

// finalReply answers control requests once the main loop is over.
func (m *monitor) finalReply() Reply {
	return Reply{Status: StatusExited}
}

// shouldRestart applies the restart policy to an exit code.
func (m *monitor) shouldRestart(code int) bool {
	p := m.cfg.Restart
	switch p.Name {
	case "always", "unless-stopped":
		return true
	case "on-failure":
		return code != 0 && (p.MaximumRetryCount == 0 || m.state.RestartCount < p.MaximumRetryCount)
	}
	return false
}

// Docker's restart delays: 100 ms, doubled at each restart up to a minute,
// and back to 100 ms after a run of at least 10 s.
const (
	firstBackoff = 100 * time.Millisecond
	maxBackoff   = time.Minute
	resetAfter   = 10 * time.Second
)

func nextBackoff(prev, ran time.Duration) time.Duration {
	if ran >= resetAfter || prev == 0 {
		return firstBackoff
	}
	return min(prev*2, maxBackoff)
}

// restart removes the exited container and creates and starts it again.
func (m *monitor) restart(ctx context.Context) error {
	if err := m.rt.Delete(ctx, m.cfg.ID, false); err != nil && !errdefs.IsNotFound(err) {
		if err := m.rt.Delete(ctx, m.cfg.ID, true); err != nil && !errdefs.IsNotFound(err) {
			return err
		}
	}
	if err := m.create(ctx); err != nil {
		return err
	}
	if err := m.start(ctx); err != nil {
		if derr := m.rt.Delete(ctx, m.cfg.ID, true); derr != nil {
			m.logf("remove the container: %v", derr)
		}
		m.endRun(m.cur, true)
		m.cur = nil
		return err
	}
	m.logf("restarted (%d), pid %d", m.state.RestartCount, m.cur.pid)
	return nil
}

// finish records the end, runs the exit command and closes everything.
func (m *monitor) finish(failure error) {
	m.mu.Lock()
	m.state.Status = StatusExited
	code := m.state.ExitCode
	exit := Exit{ExitCode: code, ExitedAt: m.state.FinishedAt, RestartCount: m.state.RestartCount}
	if failure != nil {
		m.state.Error = failure.Error()
		exit.Error = failure.Error()
	}
	if m.state.StartedAt.IsZero() && m.state.Error != "" {
		// It never ran: the start request failed.
		exit.Error, exit.ExitCode = m.state.Error, startFailureCode(m.state.Error)
	}
	if exit.ExitedAt.IsZero() {
		exit.ExitedAt = time.Now()
	}
	m.mu.Unlock()
	if err := writeJSON(m.cfg.ExitFile, exit); err != nil {
		m.logf("%v", err)
	}
	m.writeState()
	if m.exitUntold {
		m.attach.exit(code)
	}
	m.closeAll()
	m.runExitCommand(exit.ExitCode)
	_ = os.Remove(filepath.Join(m.cfg.RunDir, PidFile))
	m.logf("done, exit code %d", exit.ExitCode)
}

// startFailureCode is docker's exit code for a process that could not be
// started: 127 when its program is not found, 126 when it cannot be run,
// else 128.
func startFailureCode(msg string) int {
	m := strings.ToLower(msg)
	switch {
	case strings.Contains(m, "not found") || strings.Contains(m, "no such file"):
		return 127
	case strings.Contains(m, "permission denied") || strings.Contains(m, "exec format error"):
		return 126
	}
	return 128
}

func (m *monitor) closeAll() {
	if m.attach != nil {
		m.attach.close()
	}
	if m.ctl != nil {
		m.ctl.close()
	}
	if m.log != nil {
		_ = m.log.Close()
	}
	_ = os.Remove(filepath.Join(m.cfg.RunDir, ContainerPid))
}

// runExitCommand runs the configured exit command and waits for it.
func (m *monitor) runExitCommand(code int) {
	argv := m.cfg.ExitCommand
	if len(argv) == 0 {
		return
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), "BERTH_CONTAINER_ID="+m.cfg.ID, "BERTH_EXIT_CODE="+strconv.Itoa(code))
	cmd.Stdout, cmd.Stderr, cmd.Dir = os.Stderr, os.Stderr, m.cfg.RunDir
	rc, err := m.reaper.Run(context.Background(), cmd)
	switch {
	case err != nil:
		m.logf("exit command %q: %v", argv, err)
	case rc != 0:
		m.logf("exit command %q: exit status %d", argv, rc)
	}
}

func (m *monitor) writeState() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := writeJSON(filepath.Join(m.cfg.RunDir, StateFile), m.state); err != nil {
		m.logf("%v", err)
	}
}

// logError records a failure to write the container log.
func (m *monitor) logError(err error) {
	m.logf("%v", err)
	m.mu.Lock()
	m.state.LogError = err.Error()
	m.mu.Unlock()
	m.writeState()
}

// errReply is the sync message or reply of an error, with its class.
func errReply(err error) Reply {
	rep := Reply{Error: err.Error()}
	for _, c := range errClasses {
		if errors.Is(err, c) {
			rep.Class = c.Error()
			break
		}
	}
	return rep
}

var errClasses = []error{
	errdefs.ErrNotFound, errdefs.ErrAlreadyExists, errdefs.ErrInvalidArgument,
	errdefs.ErrFailedPrecondition, errdefs.ErrUnavailable, errdefs.ErrNotImplemented,
}

// classError turns a Reply's error back into an error of its class.
func classError(msg, class string) error {
	for _, c := range errClasses {
		if c.Error() == class {
			return fmt.Errorf("%s: %w", msg, c)
		}
	}
	return errors.New(msg)
}

func itoa(n int) string { return strconv.Itoa(n) }
