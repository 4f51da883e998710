package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/berth-project/berth/internal/testenv"
	"github.com/berth-project/berth/test/kit"
)

// TestCwdEscape runs the probe chrooted into a kit rootfs with its own /proc
// (new mount and pid namespaces), once with a leaked directory fd from outside
// the rootfs, where it must find the way out both through the fd and by chdir
// to /proc/self/fd/3 (CVE-2024-21626's path), reaching the host's /usr which
// the rootfs lacks, and once with an fd inside the rootfs.
func TestCwdEscape(t *testing.T) {
	testenv.RequiresRoot(t)
	unshare := testenv.RequiresBinary(t, "unshare")
	rootfs := filepath.Join(t.TempDir(), "rootfs")
	kit.Rootfs(t, rootfs)
	outside, err := os.Open(filepath.Dir(rootfs))
	if err != nil {
		t.Fatal(err)
	}
	defer outside.Close()
	inside, err := os.Open(filepath.Join(rootfs, "tmp"))
	if err != nil {
		t.Fatal(err)
	}
	defer inside.Close()

	probe := func(fd *os.File) escapeReport {
		t.Helper()
		cmd := exec.Command(unshare, "--mount", "--pid", "--fork", "--mount-proc", "--root", rootfs, "/probe", "cwd-escape")
		cmd.ExtraFiles = []*os.File{fd}
		stdout, stderr, code := run(t, cmd)
		if code != 0 {
			t.Fatalf("probe cwd-escape: exit %d: %s", code, stderr)
		}
		var r escapeReport
		decode(t, stdout, &r)
		return r
	}

	r := probe(outside)
	if !r.Escaped {
		t.Fatalf("leaked fd to %s: no escape found: %+v", outside.Name(), r)
	}
	for _, a := range r.Attempts {
		wantEscape := a.Via == "fd 3" || a.Via == "chdir /proc/self/fd/3"
		if a.Escaped != wantEscape || wantEscape && !slices.Contains(a.Top, "usr") {
			t.Errorf("attempt %+v: escaped %v, want %v (with the host's usr)", a, a.Escaped, wantEscape)
		}
		if a.Via == "chdir /proc/self/fd/3" && !strings.HasPrefix(a.Getcwd, "(unreachable)") {
			t.Errorf("getcwd after chdir outside the root: %q, want (unreachable)…", a.Getcwd)
		}
	}

	if r := probe(inside); r.Escaped || len(r.Attempts) != 4 {
		t.Errorf("fd inside the rootfs: %+v, want 4 attempts and no escape", r)
	}
}
