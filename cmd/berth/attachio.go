package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"golang.org/x/term"

	"github.com/berth-project/berth/internal/engine"
	"github.com/berth-project/berth/internal/monitor"
)

// errDetached ends an attach the user left with the detach keys.
var errDetached = errors.New("detached")

// attachOptions say how a terminal session with a container goes.
type attachOptions struct {
	stdin      bool   // send our stdin
	tty        bool   // the container has a terminal
	detachKeys string // docker's "ctrl-p,ctrl-q"
	sigProxy   bool   // forward our signals to the container (without a tty)
	id         string // for the signal proxy
}

// attachIO joins our stdio to conn until the container's process exits
// (its code) or the user detaches (errDetached).
func attachIO(ctx context.Context, e *engine.Engine, conn *monitor.AttachConn, o attachOptions) (int, error) {
	defer conn.Close()
	in := os.Stdin
	if o.tty && term.IsTerminal(int(in.Fd())) {
		if o.stdin {
			old, err := term.MakeRaw(int(in.Fd()))
			if err == nil {
				defer term.Restore(int(in.Fd()), old)
			}
		}
		resize := func() {
			if w, h, err := term.GetSize(int(os.Stdout.Fd())); err == nil {
				conn.Resize(uint16(h), uint16(w))
			}
		}
		resize()
		winch := make(chan os.Signal, 1)
		signal.Notify(winch, syscall.SIGWINCH)
		defer signal.Stop(winch)
		go func() {
			for range winch {
				resize()
			}
		}()
	}
	if o.sigProxy && !o.tty {
		sigs := make(chan os.Signal, 8)
		signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2)
		defer signal.Stop(sigs)
		go func() {
			for s := range sigs {
				e.Kill(context.Background(), o.id, s.(syscall.Signal))
			}
		}()
	}
	// Signals not forwarded end berth, as they end docker's CLI, and leave
	// the container running (berth catches SIGINT and SIGTERM for its own
	// context, which nothing here waits on).
	interrupted := make(chan syscall.Signal, 1)
	if !o.sigProxy || o.tty {
		sigs := make(chan os.Signal, 1)
		signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
		defer signal.Stop(sigs)
		done := make(chan struct{})
		defer close(done)
		go func() {
			select {
			case s := <-sigs:
				interrupted <- s.(syscall.Signal)
				conn.Close()
			case <-done:
			}
		}()
	}
	detached := make(chan struct{})
	if o.stdin {
		keys, err := parseDetachKeys(o.detachKeys)
		if err != nil {
			return 0, err
		}
		go func() {
			if copyStdin(in, conn, keys, o.tty) {
				close(detached)
				conn.Close()
			}
		}()
	}
	code, err := conn.Copy(os.Stdout, os.Stderr)
	select {
	case <-detached:
		return 0, errDetached
	case sig := <-interrupted:
		return 0, exitError{128 + int(sig)}
	default:
	}
	return code, err
}

// copyStdin sends in to the container, watching for the detach keys on a
// terminal; it reports whether the user detached.
func copyStdin(in io.Reader, conn *monitor.AttachConn, keys []byte, tty bool) bool {
	buf := make([]byte, 32<<10)
	matched := 0
	for {
		n, err := in.Read(buf)
		data := buf[:n]
		if tty && len(keys) > 0 {
			for i, b := range data {
				if b == keys[matched] {
					matched++
					if matched == len(keys) {
						conn.Write(data[:i+1-len(keys)])
						return true
					}
				} else {
					matched = 0
				}
			}
		}
		if len(data) > 0 {
			if _, werr := conn.Write(data); werr != nil {
				return false
			}
		}
		if err != nil {
			conn.CloseStdin()
			return false
		}
	}
}

// parseDetachKeys reads docker's --detach-keys ("ctrl-p,ctrl-q", "a,ctrl-x").
func parseDetachKeys(s string) ([]byte, error) {
	if s == "" {
		s = "ctrl-p,ctrl-q"
	}
	var out []byte
	for _, k := range strings.Split(s, ",") {
		switch {
		case len(k) == 1:
			out = append(out, k[0])
		case strings.HasPrefix(k, "ctrl-") && len(k) == 6:
			c := k[5]
			switch {
			case c >= 'a' && c <= 'z':
				out = append(out, c-'a'+1)
			case c == '@':
				out = append(out, 0)
			case c >= '[' && c <= '_':
				out = append(out, c-'['+27)
			default:
				return nil, fmt.Errorf("--detach-keys %q: unknown key %q", s, k)
			}
		default:
			return nil, fmt.Errorf("--detach-keys %q: unknown key %q", s, k)
		}
	}
	return out, nil
}

// startExitCode is the code `run` exits with when the container could not
// start at all, as docker: 127 for a command not found, 126 for one that
// cannot be run, 125 for anything else.
func startExitCode(err error) int {
	msg := strings.ToLower(err.Error())
	switch {
	case strings.Contains(msg, "executable file not found"), strings.Contains(msg, "no such file or directory"):
		return 127
	case strings.Contains(msg, "permission denied"), strings.Contains(msg, "exec format error"), strings.Contains(msg, "is a directory"):
		return 126
	}
	return exitEngine
}
