package ociruntime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"
)

// Runtime is one OCI runtime binary with its state root.
type Runtime struct {
	// Path is the runtime binary: a path, or a name looked up in $PATH.
	Path string
	// Root is the runtime's state directory (--root); empty leaves the
	// runtime's default.
	Root string
	// Log, when set, receives a copy of every call's JSON log, appended.
	Log string
	// TempDir holds a call's short-lived files (its log, process.json,
	// resources); empty means os.TempDir().
	TempDir string
	// Runner starts and waits for each runtime process; nil runs them with
	// os/exec (see Runner).
	Runner Runner
}

// Runner runs one runtime process to its end.
//
// Run starts cmd, waits for it and returns its exit code (128+n when a
// signal n killed it). The error is for a process that could not be started
// or waited for; when ctx ends first, Run kills the process and returns
// ctx's error. cmd's Stdin, Stdout and Stderr are always nil or *os.File.
type Runner interface {
	Run(ctx context.Context, cmd *exec.Cmd) (int, error)
}

// ExecRunner is the default Runner: exec.Cmd's Start and Wait.
type ExecRunner struct{}

// Run implements Runner.
func (ExecRunner) Run(ctx context.Context, cmd *exec.Cmd) (int, error) {
	if err := cmd.Start(); err != nil {
		return -1, err
	}
	stop := context.AfterFunc(ctx, func() { _ = cmd.Process.Kill() })
	err := cmd.Wait()
	if !stop() {
		return 128 + int(syscall.SIGKILL), ctx.Err()
	}
	if err == nil {
		return 0, nil
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ExitCode(ee.Sys().(syscall.WaitStatus)), nil
	}
	return -1, err
}

// ExitCode is a wait status as a shell reports it: the exit code, or 128+n
// for a process killed by signal n.
func ExitCode(ws syscall.WaitStatus) int {
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}

// call is one invocation of the runtime.
type call struct {
	op, id string
	args   []string // after the global flags: verb, its flags, operands
	// stdin, stdout, stderr are the caller's streams, passed through; nil
	// stdin is /dev/null, nil stdout is captured when wantOut, nil stderr
	// is captured for the error message.
	stdin, stdout, stderr *os.File
	extra                 []*os.File
	wantOut               bool
	// exitOK lets a non-zero exit without an error in the log through
	// (exec without --detach exits with its process's code).
	exitOK bool
}

// result is what a call left: its stdout (when captured) and exit code.
type result struct {
	out  []byte
	code int
}

func (r *Runtime) tempDir() string {
	if r.TempDir != "" {
		return r.TempDir
	}
	return os.TempDir()
}

func (r *Runtime) name() string { return filepath.Base(r.Path) }

// run invokes the runtime for c.
func (r *Runtime) run(ctx context.Context, c call) (result, error) {
	if r.Path == "" {
		return result{}, &Error{Runtime: "runtime", Op: c.op, ID: c.id, Message: "no runtime binary given", Class: errInvalid}
	}
	logf, err := os.CreateTemp(r.tempDir(), "ociruntime-log-*.json")
	if err != nil {
		return result{}, fmt.Errorf("%s %s: log file: %w", r.name(), c.op, err)
	}
	defer os.Remove(logf.Name())
	defer logf.Close()

	args := make([]string, 0, 6+len(c.args))
	if r.Root != "" {
		args = append(args, "--root", r.Root)
	}
	args = append(args, "--log", logf.Name(), "--log-format", "json")
	args = append(args, c.args...)
	cmd := exec.Command(r.Path, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = c.stdin, c.stdout, c.stderr
	cmd.ExtraFiles = c.extra

	var outf, errf *os.File
	if c.stdout == nil && c.wantOut {
		if outf, err = scratchFile(r.tempDir()); err != nil {
			return result{}, fmt.Errorf("%s %s: %w", r.name(), c.op, err)
		}
		defer outf.Close()
		cmd.Stdout = outf
	}
	if c.stderr == nil {
		if errf, err = scratchFile(r.tempDir()); err != nil {
			return result{}, fmt.Errorf("%s %s: %w", r.name(), c.op, err)
		}
		defer errf.Close()
		cmd.Stderr = errf
	}

	runner := r.Runner
	if runner == nil {
		runner = ExecRunner{}
	}
	code, runErr := runner.Run(ctx, cmd)
	logData, _ := io.ReadAll(logf)
	if r.Log != "" && len(logData) > 0 {
		appendFile(r.Log, logData)
	}
	res := result{code: code}
	if runErr != nil {
		return res, &Error{Runtime: r.name(), Op: c.op, ID: c.id, Message: runErr.Error(), Err: runErr, Class: classOf(runErr)}
	}
	msg := logError(logData)
	// A runtime that exits 0 succeeded whatever it logged; exec without
	// --detach exits with its process's code, which is no failure unless
	// the runtime logged one.
	if code == 0 || c.exitOK && msg == "" {
		if outf != nil {
			if res.out, err = readAll(outf); err != nil {
				return res, fmt.Errorf("%s %s: read output: %w", r.name(), c.op, err)
			}
		}
		return res, nil
	}
	if msg == "" && errf != nil {
		data, _ := readAll(errf)
		msg = lastLines(data)
	}
	if msg == "" {
		msg = fmt.Sprintf("exit status %d", code)
	}
	return res, &Error{Runtime: r.name(), Op: c.op, ID: c.id, Message: msg, Class: Classify(msg)}
}

// classOf classes an error of the Runner (not of the runtime).
func classOf(err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return nil
	}
	if errors.Is(err, exec.ErrNotFound) || errors.Is(err, os.ErrNotExist) {
		return errNotFound
	}
	return nil
}

// scratchFile returns an unnamed file in dir (O_TMPFILE), or a named one
// removed at once where the filesystem lacks O_TMPFILE.
func scratchFile(dir string) (*os.File, error) {
	fd, err := unix.Open(dir, unix.O_TMPFILE|unix.O_RDWR|unix.O_CLOEXEC, 0o600)
	if err == nil {
		return os.NewFile(uintptr(fd), filepath.Join(dir, "(scratch)")), nil
	}
	f, err := os.CreateTemp(dir, "ociruntime-out-*")
	if err != nil {
		return nil, fmt.Errorf("scratch file in %s: %w", dir, err)
	}
	_ = os.Remove(f.Name())
	return f, nil
}

func readAll(f *os.File) ([]byte, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	return io.ReadAll(f)
}

// appendFile appends data to the file at path in one write; a failure only
// loses the copy.
func appendFile(path string, data []byte) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return
	}
	_, _ = f.Write(data)
	_ = f.Close()
}
