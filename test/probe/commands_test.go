package main

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/testenv"
)

func TestExit(t *testing.T) {
	for _, n := range []int{0, 1, 7, 255} {
		if _, stderr, code := run(t, probeCmd(t, "exit", strconv.Itoa(n))); code != n {
			t.Errorf("exit %d: status %d (%s)", n, code, stderr)
		}
	}
	if _, stderr, code := run(t, probeCmd(t, "exit", "x")); code != 2 || !strings.Contains(stderr, `"x"`) {
		t.Errorf("exit x: status %d, stderr %q; want 2 naming the input", code, stderr)
	}
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{{}, {"nope"}, {"stat"}, {"write", "/x"}} {
		if _, stderr, code := run(t, probeCmd(t, args...)); code != 2 || !strings.Contains(stderr, "usage:") {
			t.Errorf("probe %q: status %d, stderr %q; want 2 with usage", args, code, stderr)
		}
	}
}

func TestSleep(t *testing.T) {
	if _, stderr, code := run(t, probeCmd(t, "sleep", "0.01")); code != 0 {
		t.Errorf("sleep 0.01: status %d: %s", code, stderr)
	}
	if _, _, code := run(t, probeCmd(t, "sleep", "-1")); code != 2 {
		t.Errorf("sleep -1: status %d, want 2", code)
	}
}

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	if _, stderr, code := run(t, probeCmd(t, "write", p, "hello world")); code != 0 {
		t.Fatalf("write: status %d: %s", code, stderr)
	}
	if got, err := os.ReadFile(p); err != nil || string(got) != "hello world" {
		t.Errorf("wrote %q, %v", got, err)
	}
	bad := filepath.Join(dir, "missing", "f")
	if _, stderr, code := run(t, probeCmd(t, "write", bad, "x")); code != 1 || !strings.Contains(stderr, bad) {
		t.Errorf("write %s: status %d, stderr %q; want 1 naming the path", bad, code, stderr)
	}
}

func TestStat(t *testing.T) {
	dir := t.TempDir()
	file, link, fifo, sticky := filepath.Join(dir, "file"), filepath.Join(dir, "link"), filepath.Join(dir, "fifo"), filepath.Join(dir, "sticky")
	if err := os.WriteFile(file, []byte("12345"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(file, 0o4751|os.ModeSetuid); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("file", link); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mkfifo(fifo, 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(sticky, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(sticky, 0o777|os.ModeSticky); err != nil {
		t.Fatal(err)
	}
	var null unix.Stat_t
	if err := unix.Stat("/dev/null", &null); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		path, typ, mode, target string
		size                    int64
		dev                     bool
	}{
		{path: file, typ: "file", mode: "4751", size: 5},
		{path: link, typ: "symlink", mode: "0777", target: "file", size: 4},
		{path: fifo, typ: "fifo", mode: "0640"},
		{path: sticky, typ: "dir", mode: "1777", size: -1},
		{path: "/dev/null", typ: "char", mode: "0666", dev: true},
	} {
		stdout, stderr, code := run(t, probeCmd(t, "stat", c.path))
		if code != 0 {
			t.Errorf("stat %s: status %d: %s", c.path, code, stderr)
			continue
		}
		var got fileStat
		decode(t, stdout, &got)
		if got.Path != c.path || got.Type != c.typ || got.Mode != c.mode || got.Target != c.target ||
			(c.size >= 0 && got.Size != c.size) || got.UID != uint32(os.Getuid()) && !c.dev {
			t.Errorf("stat %s: %+v, want type %s mode %s target %q size %d", c.path, got, c.typ, c.mode, c.target, c.size)
		}
		if c.dev != (got.Major != nil) || c.dev && (*got.Major != unix.Major(null.Rdev) || *got.Minor != unix.Minor(null.Rdev)) {
			t.Errorf("stat %s: device numbers %v %v", c.path, got.Major, got.Minor)
		}
	}
	if _, stderr, code := run(t, probeCmd(t, "stat", filepath.Join(dir, "none"))); code != 1 || !strings.Contains(stderr, "none") {
		t.Errorf("stat of a missing path: status %d, stderr %q", code, stderr)
	}
}

func TestSignals(t *testing.T) {
	// The deadline only keeps a broken probe from hanging the test run.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, testenv.Binary(t, "probe"), "signals")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(out)
	next := func() string {
		if !lines.Scan() {
			t.Fatalf("probe signals: output ended: %v", lines.Err())
		}
		return lines.Text()
	}
	if l := next(); l != "ready" {
		t.Fatalf("first line %q, want ready", l)
	}
	for _, sig := range []syscall.Signal{syscall.SIGUSR1, syscall.SIGHUP, syscall.SIGURG, syscall.SIGWINCH, syscall.SIGTERM} {
		if err := cmd.Process.Signal(sig); err != nil {
			t.Fatal(err)
		}
		if l, want := next(), unix.SignalName(sig); l != want {
			t.Errorf("after %s: %q", want, l)
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("probe signals after SIGTERM: %v, want exit 0", err)
	}
}
