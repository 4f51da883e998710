package ociruntime_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/ociruntime"
	"github.com/berth-project/berth/internal/testenv"
	"github.com/berth-project/berth/test/kit"
)

// runtimes returns berth-runtime and runc, each with a root of the test's
// own that must be empty when the test ends.
func runtimes(t *testing.T) map[string]*ociruntime.Runtime {
	t.Helper()
	testenv.RequiresRoot(t)
	rts := map[string]*ociruntime.Runtime{
		"berth-runtime": {Path: testenv.Binary(t, "berth-runtime")},
		"runc":          {Path: testenv.RequiresBinary(t, "runc")},
	}
	for _, rt := range rts {
		rt.Root = t.TempDir()
		rt.TempDir = t.TempDir()
		checkEmpty(t, rt)
	}
	return rts
}

// checkEmpty fails the test when containers, or a call's temporary files,
// are left behind by rt.
func checkEmpty(t *testing.T, rt *ociruntime.Runtime) {
	t.Cleanup(func() {
		for _, dir := range []string{rt.Root, rt.TempDir} {
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				t.Errorf("%s left in %s", e.Name(), dir)
				if dir == rt.Root {
					_ = rt.Delete(context.Background(), e.Name(), true)
				}
			}
		}
	})
}

// newID returns a container id unique to the test.
func newID(t *testing.T) string {
	return "oci-" + strconv.Itoa(os.Getpid()) + "-" + strconv.FormatInt(time.Now().UnixNano()%1e9, 36)
}

// waitStatus polls the runtime until id has status want.
func waitStatus(t *testing.T, rt *ociruntime.Runtime, id, want string) *specs.State {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		st, err := rt.State(context.Background(), id)
		if err != nil {
			t.Fatalf("state %s: %v", id, err)
		}
		if st.Status == specs.ContainerState(want) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("container %s is %s, want %s", id, st.Status, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestLifecycle(t *testing.T) {
	for name, rt := range runtimes(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			b := kit.NewBundle(t)
			b.Spec.Process.Args = []string{"/bin/sh", "-c", "echo hello; exec /probe sleep 1000"}
			if err := b.Save(); err != nil {
				t.Fatal(err)
			}
			id := newID(t)
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			pidFile := filepath.Join(t.TempDir(), "pid")
			err = rt.Create(ctx, id, b.Path(), ociruntime.CreateOpts{PidFile: pidFile, Stdout: w, Stderr: w})
			w.Close()
			if err != nil {
				t.Fatalf("create: %v", err)
			}
			t.Cleanup(func() { _ = rt.Delete(ctx, id, true) })

			st := waitStatus(t, rt, id, "created")
			data, err := os.ReadFile(pidFile)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.TrimSpace(string(data)); got != strconv.Itoa(st.Pid) || st.Pid <= 0 {
				t.Errorf("pid file %q, state pid %d", got, st.Pid)
			}
			if st.ID != id || st.Bundle != b.Path() {
				t.Errorf("state id %q bundle %q, want %q %q", st.ID, st.Bundle, id, b.Path())
			}
			list, err := rt.List(ctx)
			if err != nil || len(list) != 1 || list[0].ID != id {
				t.Errorf("list = %+v, %v; want %s alone", list, err, id)
			}

			if err := rt.Start(ctx, id); err != nil {
				t.Fatalf("start: %v", err)
			}
			line := make([]byte, 6)
			if _, err := io.ReadFull(r, line); err != nil || string(line) != "hello\n" {
				t.Errorf("container output %q, %v; want hello", line, err)
			}
			waitStatus(t, rt, id, "running")
			pids, err := rt.Ps(ctx, id)
			if err != nil || len(pids) != 1 || pids[0] != st.Pid {
				t.Errorf("ps = %v, %v; want [%d]", pids, err, st.Pid)
			}

			if err := rt.Pause(ctx, id); err != nil {
				t.Fatalf("pause: %v", err)
			}
			waitStatus(t, rt, id, "paused")
			if err := rt.Resume(ctx, id); err != nil {
				t.Fatalf("resume: %v", err)
			}
			waitStatus(t, rt, id, "running")

			limit := int64(42)
			if err := rt.Update(ctx, id, &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: &limit}}); err != nil {
				t.Fatalf("update: %v", err)
			}
			stats, err := rt.Stats(ctx, id)
			if err != nil {
				t.Fatalf("stats: %v", err)
			}
			if !bytes.Contains(stats, []byte(`"limit":42`)) {
				t.Errorf("stats after update do not show the pids limit 42: %s", stats)
			}

			// Deleting a running container needs force.
			err = rt.Delete(ctx, id, false)
			if !errors.Is(err, errdefs.ErrFailedPrecondition) {
				t.Errorf("delete of a running container: %v, want FailedPrecondition", err)
			}
			if err := rt.Kill(ctx, id, syscall.SIGKILL, false); err != nil {
				t.Fatalf("kill: %v", err)
			}
			waitStatus(t, rt, id, "stopped")
			if err := rt.Delete(ctx, id, false); err != nil {
				t.Fatalf("delete: %v", err)
			}
			_, err = rt.State(ctx, id)
			var rerr *ociruntime.Error
			if !errors.Is(err, errdefs.ErrNotFound) || !errors.As(err, &rerr) || rerr.ID != id || rerr.Op != "state" {
				t.Errorf("state after delete: %v, want NotFound naming %s", err, id)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	for name, rt := range runtimes(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			for _, op := range []func() error{
				func() error { return rt.Start(ctx, "nonexistent") },
				func() error { return rt.Kill(ctx, "nonexistent", syscall.SIGTERM, false) },
				func() error { _, err := rt.State(ctx, "nonexistent"); return err },
			} {
				if err := op(); !errors.Is(err, errdefs.ErrNotFound) || !strings.Contains(err.Error(), "nonexistent") {
					t.Errorf("%v: want NotFound naming the id", err)
				}
			}

			b := kit.NewBundle(t)
			b.Spec.Process.Args = []string{"/probe", "sleep", "1000"}
			if err := b.Save(); err != nil {
				t.Fatal(err)
			}
			id := newID(t)
			if err := rt.Create(ctx, id, b.Path(), ociruntime.CreateOpts{}); err != nil {
				t.Fatalf("create: %v", err)
			}
			err := rt.Create(ctx, id, b.Path(), ociruntime.CreateOpts{})
			if !errors.Is(err, errdefs.ErrAlreadyExists) {
				t.Errorf("second create: %v, want AlreadyExists", err)
			}
			if err := rt.Delete(ctx, id, true); err != nil {
				t.Fatalf("delete --force of a created container: %v", err)
			}

			// A bundle whose program does not exist fails create.
			b.Spec.Process.Args = []string{"/nonexistent-program"}
			if err := b.Save(); err != nil {
				t.Fatal(err)
			}
			err = rt.Create(ctx, id, b.Path(), ociruntime.CreateOpts{})
			if err == nil {
				_ = rt.Delete(ctx, id, true)
				t.Fatal("create with a missing program succeeded")
			}
			if !strings.Contains(err.Error(), "nonexistent-program") {
				t.Errorf("create with a missing program: %v, want the runtime's message naming it", err)
			}
			_ = rt.Delete(ctx, id, true) // runc may leave a stopped container

			err = rt.Create(ctx, id, filepath.Join(t.TempDir(), "missing"), ociruntime.CreateOpts{})
			if err == nil {
				t.Fatal("create from a missing bundle succeeded")
			}
			if !strings.Contains(err.Error(), "missing") {
				t.Errorf("create from a missing bundle: %v, want the path named", err)
			}
		})
	}
}

func TestMissingBinary(t *testing.T) {
	rt := &ociruntime.Runtime{Path: filepath.Join(t.TempDir(), "no-such-runtime"), TempDir: t.TempDir()}
	_, err := rt.State(context.Background(), "x")
	if !errors.Is(err, errdefs.ErrNotFound) || !strings.Contains(err.Error(), "no-such-runtime") {
		t.Errorf("state with a missing binary: %v, want NotFound naming it", err)
	}
}

func TestExec(t *testing.T) {
	for name, rt := range runtimes(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			b := kit.NewBundle(t)
			b.Spec.Process.Args = []string{"/probe", "sleep", "1000"}
			if err := b.Save(); err != nil {
				t.Fatal(err)
			}
			id := newID(t)
			if err := rt.Create(ctx, id, b.Path(), ociruntime.CreateOpts{}); err != nil {
				t.Fatalf("create: %v", err)
			}
			t.Cleanup(func() { _ = rt.Delete(ctx, id, true) })
			if err := rt.Start(ctx, id); err != nil {
				t.Fatalf("start: %v", err)
			}
			p := *b.Spec.Process
			p.Args = []string{"/bin/sh", "-c", "echo out; echo err >&2; exit 3"}
			dir := t.TempDir()
			out, err := os.Create(filepath.Join(dir, "out"))
			if err != nil {
				t.Fatal(err)
			}
			defer out.Close()
			errf, err := os.Create(filepath.Join(dir, "err"))
			if err != nil {
				t.Fatal(err)
			}
			defer errf.Close()
			code, err := rt.Exec(ctx, id, &p, ociruntime.ExecOpts{Stdout: out, Stderr: errf})
			if err != nil || code != 3 {
				t.Fatalf("exec = %d, %v; want 3", code, err)
			}
			outData, _ := os.ReadFile(out.Name())
			errData, _ := os.ReadFile(errf.Name())
			if string(outData) != "out\n" || string(errData) != "err\n" {
				t.Errorf("exec stdout %q, stderr %q; want out, err", outData, errData)
			}

			// Detached: the pid file names the process, which runs on.
			pidFile := filepath.Join(t.TempDir(), "exec.pid")
			p.Args = []string{"/probe", "sleep", "1000"}
			code, err = rt.Exec(ctx, id, &p, ociruntime.ExecOpts{Detach: true, PidFile: pidFile})
			if err != nil || code != 0 {
				t.Fatalf("exec --detach = %d, %v", code, err)
			}
			data, err := os.ReadFile(pidFile)
			if err != nil {
				t.Fatal(err)
			}
			pid, _ := strconv.Atoi(strings.TrimSpace(string(data)))
			pids, err := rt.Ps(ctx, id)
			if err != nil || !containsInt(pids, pid) {
				t.Errorf("ps = %v, %v; want the exec'd pid %d among them", pids, err, pid)
			}

			// A program that does not exist is the runtime's error.
			p.Args = []string{"/nonexistent-program"}
			if _, err := rt.Exec(ctx, id, &p, ociruntime.ExecOpts{}); err == nil {
				t.Error("exec of a missing program succeeded")
			}
			if err := rt.Delete(ctx, id, true); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestTerminal(t *testing.T) {
	for name, rt := range runtimes(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			b := kit.NewBundle(t)
			b.Spec.Process.Terminal = true
			b.Spec.Process.Args = []string{"/bin/sh", "-c", "tty; exec /probe sleep 1000"}
			if err := b.Save(); err != nil {
				t.Fatal(err)
			}
			cs, err := ociruntime.NewConsoleSocket("")
			if err != nil {
				t.Fatal(err)
			}
			defer cs.Close()
			id := newID(t)
			if err := rt.Create(ctx, id, b.Path(), ociruntime.CreateOpts{ConsoleSocket: cs.Path()}); err != nil {
				t.Fatalf("create: %v", err)
			}
			t.Cleanup(func() { _ = rt.Delete(ctx, id, true) })
			rctx, cancel := context.WithTimeout(ctx, time.Minute)
			defer cancel()
			master, err := cs.Receive(rctx)
			if err != nil {
				t.Fatalf("receive the pty master: %v", err)
			}
			defer master.Close()
			if err := rt.Start(ctx, id); err != nil {
				t.Fatalf("start: %v", err)
			}
			_ = master.SetReadDeadline(time.Now().Add(time.Minute)) // the fd is pollable
			var got []byte
			buf := make([]byte, 256)
			for !bytes.Contains(got, []byte("\n")) {
				n, err := master.Read(buf)
				if err != nil {
					t.Fatalf("read pty: %v (got %q)", err, got)
				}
				got = append(got, buf[:n]...)
			}
			if !bytes.HasPrefix(got, []byte("/dev/pts/")) {
				t.Errorf("tty printed %q, want /dev/pts/N", got)
			}
			if err := rt.Delete(ctx, id, true); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestContextCancel(t *testing.T) {
	// A runtime that hangs is killed when the context ends.
	script := filepath.Join(t.TempDir(), "hang")
	if err := os.WriteFile(script, []byte("#!/bin/sh\nexec sleep 1000\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	rt := &ociruntime.Runtime{Path: script, TempDir: t.TempDir()}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- rt.Start(ctx, "x") }()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("start with a cancelled context: %v, want context.Canceled", err)
	}
}

func containsInt(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
