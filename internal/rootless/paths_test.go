package rootless

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/berth-project/berth/internal/errdefs"
)

func TestDirs(t *testing.T) {
	t.Setenv("HOME", "/home/alice")
	t.Setenv("XDG_DATA_HOME", "")
	t.Setenv("XDG_CONFIG_HOME", "")
	t.Setenv("XDG_RUNTIME_DIR", "")
	if got := DataDir(); got != "/home/alice/.local/share/berth" {
		t.Errorf("DataDir() = %q", got)
	}
	if got := ConfigDir(); got != "/home/alice/.config/berth" {
		t.Errorf("ConfigDir() = %q", got)
	}
	if got := RunDir(1000); got != filepath.Join(os.TempDir(), "berth-1000") {
		t.Errorf("RunDir(1000) without XDG_RUNTIME_DIR = %q", got)
	}
	t.Setenv("XDG_DATA_HOME", "/data")
	t.Setenv("XDG_CONFIG_HOME", "/conf")
	t.Setenv("XDG_RUNTIME_DIR", "/run/user/1000")
	if got := DataDir(); got != "/data/berth" {
		t.Errorf("DataDir() = %q", got)
	}
	if got := ConfigDir(); got != "/conf/berth" {
		t.Errorf("ConfigDir() = %q", got)
	}
	if got := RunDir(1000); got != "/run/user/1000/berth" {
		t.Errorf("RunDir(1000) = %q", got)
	}
}

// TestEnsurePrivateDir: a runtime dir is made 0700; one that others may
// enter, or a symlink (someone else's in a shared /tmp), is refused.
func TestEnsurePrivateDir(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "berth-"+strconv.Itoa(os.Getuid()))
	if err := ensurePrivateDir(dir); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("made %s: %v, %v", dir, fi.Mode(), err)
	}
	if err := ensurePrivateDir(dir); err != nil {
		t.Errorf("second call: %v", err)
	}
	open := filepath.Join(base, "open")
	if err := os.Mkdir(open, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := ensurePrivateDir(open); !errors.Is(err, errdefs.ErrFailedPrecondition) {
		t.Errorf("a dir of mode 0755: %v, want FailedPrecondition", err)
	}
	link := filepath.Join(base, "link")
	if err := os.Symlink(dir, link); err != nil {
		t.Fatal(err)
	}
	if err := ensurePrivateDir(link); !errors.Is(err, errdefs.ErrFailedPrecondition) {
		t.Errorf("a symlink: %v, want FailedPrecondition", err)
	}
}
