// Package hooks runs OCI lifecycle hooks: each hook gets the container's
// state JSON on stdin, its own args and env, and is killed when its timeout
// passes.
package hooks

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"syscall"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Run runs hooks in order with state on stdin and stops at the first that
// fails, naming it.
func Run(kind string, list []specs.Hook, state *specs.State) error {
	return run(kind, list, state, false)
}

// RunAll runs every hook, even after one fails (poststart and poststop:
// a failure is a warning and the rest go on), and returns the failures.
func RunAll(kind string, list []specs.Hook, state *specs.State) error {
	return run(kind, list, state, true)
}

func run(kind string, list []specs.Hook, state *specs.State, goOn bool) error {
	if len(list) == 0 {
		return nil
	}
	data, err := json.Marshal(state)
	if err != nil {
		return fmt.Errorf("encode state for %s hooks: %w", kind, err)
	}
	var errs []error
	for i, h := range list {
		if err := runOne(h, data); err != nil {
			errs = append(errs, fmt.Errorf("%s hook #%d (%s): %w", kind, i, h.Path, err))
			if !goOn {
				break
			}
		}
	}
	return errors.Join(errs...)
}

func runOne(h specs.Hook, state []byte) error {
	ctx := context.Background()
	if h.Timeout != nil {
		if *h.Timeout <= 0 {
			return fmt.Errorf("timeout %d must be positive", *h.Timeout)
		}
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(*h.Timeout)*time.Second)
		defer cancel()
	}
	cmd := exec.CommandContext(ctx, h.Path)
	if len(h.Args) > 0 {
		cmd.Args = h.Args
	} else {
		cmd.Args = []string{h.Path}
	}
	cmd.Env = h.Env
	if cmd.Env == nil {
		cmd.Env = []string{}
	}
	// A hook that times out is killed with everything it started: it runs
	// in a process group of its own.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.Stdin = bytes.NewReader(state)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = time.Second
	err := cmd.Run()
	if ctx.Err() == context.DeadlineExceeded {
		return fmt.Errorf("timed out after %ds", *h.Timeout)
	}
	if err != nil {
		if msg := strings.TrimSpace(out.String()); msg != "" {
			return fmt.Errorf("%w: %s", err, msg)
		}
		return err
	}
	return nil
}
