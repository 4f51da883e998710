package monitor

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/berth-project/berth/internal/errdefs"
)

// Launched is a monitor that reported its container created (and started,
// unless WaitStart).
type Launched struct {
	// Process is the monitor. The engine may Release it and exit; a
	// long-lived caller (a test, berthd) should Wait for it in time, as
	// its parent.
	Process *os.Process
	// Pid is the container's process, as the host sees it.
	Pid int
	// Status is StatusRunning, or StatusCreated with WaitStart.
	Status string
}

// Launch writes cfg to <RunDir>/monitor.json and starts the monitor binary
// on it in a session of its own, its stdio on /dev/null and the sync pipe
// on fd 3, and waits for the sync message. When the monitor reports an
// error (or dies before reporting), Launch waits for it to exit, so that
// nothing of the container is left when it returns the error, classed as
// the monitor reports it (errdefs).
//
// When ctx ends first, Launch returns ctx's error and the monitor goes on.
func Launch(ctx context.Context, binary string, cfg *Config) (*Launched, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.RunDir, 0o700); err != nil {
		return nil, fmt.Errorf("run dir of %q: %w", cfg.ID, err)
	}
	if err := writeJSON(filepath.Join(cfg.RunDir, ConfigFile), cfg); err != nil {
		return nil, err
	}
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	defer null.Close()
	syncR, syncW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("sync pipe: %w", err)
	}
	defer syncR.Close()
	cmd := exec.Command(binary, cfg.RunDir)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = null, null, null
	cmd.ExtraFiles = []*os.File{syncW}
	cmd.Dir = cfg.RunDir
	// One P from the start: each P (and the thread that runs it) is memory
	// that every container's monitor would pay; the monitor drops the
	// variable again before it runs anything.
	cmd.Env = append(os.Environ(), "GOMAXPROCS=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	err = cmd.Start()
	syncW.Close()
	if err != nil {
		return nil, fmt.Errorf("start monitor %s: %w", binary, err)
	}
	type result struct {
		rep Reply
		err error
	}
	got := make(chan result, 1)
	go func() {
		line, err := bufio.NewReader(syncR).ReadBytes('\n')
		if err != nil && !(errors.Is(err, io.EOF) && len(line) > 0) {
			got <- result{err: err}
			return
		}
		var rep Reply
		err = json.Unmarshal(line, &rep)
		got <- result{rep: rep, err: err}
	}()
	var res result
	select {
	case res = <-got:
	case <-ctx.Done():
		return nil, fmt.Errorf("monitor of %q: %w", cfg.ID, ctx.Err())
	}
	if res.err == nil && res.rep.Error == "" && res.rep.Pid > 0 {
		return &Launched{Process: cmd.Process, Pid: res.rep.Pid, Status: res.rep.Status}, nil
	}
	_ = cmd.Wait() // it gave up: let it finish cleaning up
	if res.err != nil {
		return nil, fmt.Errorf("monitor of %q exited without reporting (%v): %s: %w",
			cfg.ID, res.err, diagTail(cfg.RunDir), errdefs.ErrUnavailable)
	}
	if res.rep.Error == "" {
		return nil, fmt.Errorf("monitor of %q: sync message without a pid", cfg.ID)
	}
	return nil, classError(res.rep.Error, res.rep.Class)
}

// diagTail returns the last line of a monitor's diagnostics.
func diagTail(dir string) string {
	data, err := os.ReadFile(filepath.Join(dir, DiagFile))
	if err != nil {
		return "no " + DiagFile
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	return lines[len(lines)-1]
}
