package pathrs

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestOpenProc(t *testing.T) {
	p, err := OpenProc("/proc")
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()

	f, err := p.Open("self/status", unix.O_RDONLY)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	if want := "\nPid:\t" + strconv.Itoa(os.Getpid()) + "\n"; !strings.Contains(string(b), want) {
		t.Fatalf("self/status does not hold %q:\n%s", want, b)
	}
	for _, sub := range []string{"thread-self/status", "/self/stat", "sys/kernel/ostype", "self"} {
		g, err := p.Open(sub, unix.O_RDONLY)
		if err != nil {
			t.Errorf("Open(%q): %v", sub, err)
			continue
		}
		g.Close()
	}
	// Symlinks (other than a leading self/thread-self) are never followed.
	for _, sub := range []string{"self/exe", "self/root/etc/passwd", "self/fd/0", "mounts", "self/cwd", "../etc/passwd"} {
		g, err := p.Open(sub, unix.O_RDONLY)
		if err == nil {
			g.Close()
			t.Errorf("Open(%q) succeeded, want an error", sub)
		}
	}
	if _, err := p.Open("self/root", unix.O_PATH); !errors.Is(err, unix.ELOOP) {
		t.Errorf("Open(self/root) = %v, want ELOOP", err)
	}
}

func TestOpenProcRefusesOtherFilesystems(t *testing.T) {
	if _, err := OpenProc(t.TempDir()); err == nil {
		t.Fatal("OpenProc on a plain directory succeeded")
	}
	// A subdirectory of a real procfs is not the root of a procfs.
	if _, err := OpenProc("/proc/self"); err == nil {
		t.Fatal("OpenProc(/proc/self) succeeded")
	}
	if _, err := OpenProc("/proc/sys"); err == nil {
		t.Fatal("OpenProc(/proc/sys) succeeded")
	}
	if _, err := OpenProc(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Fatal("OpenProc on a missing path succeeded")
	}
}
