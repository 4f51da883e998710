package overlay

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/linux/mount"
	"github.com/berth-project/berth/internal/snapshot"
	"github.com/berth-project/berth/internal/snapshot/testsuite"
	"github.com/berth-project/berth/internal/testenv"
)

func newOverlay(t *testing.T, root string) snapshot.Snapshotter {
	sn, err := New(root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return sn
}

func TestOverlay(t *testing.T) {
	testenv.RequiresRoot(t)
	testsuite.Run(t, newOverlay)
}

func TestSupported(t *testing.T) {
	testenv.RequiresRoot(t)
	root := filepath.Join(t.TempDir(), "root")
	if err := Supported(root); err != nil {
		t.Fatalf("overlay on %s: %v", root, err)
	}
	entries, err := os.ReadDir(root)
	if err != nil || len(entries) != 0 {
		t.Fatalf("the check left %v behind (%v)", entries, err)
	}
}

// TestUpperHoldsOverlayWhiteouts checks the layout the unpacker and the
// package doc rely on: deletions through an overlay mount are whiteouts
// (char 0/0) and opaque directories in the snapshot's fs.
func TestUpperHoldsOverlayWhiteouts(t *testing.T) {
	testenv.RequiresRoot(t)
	ctx := context.Background()
	root := t.TempDir()
	sn, err := New(root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ms, err := sn.Prepare(ctx, "a", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 1 || ms[0].Type != "bind" || !strings.HasPrefix(ms[0].Source, filepath.Join(root, "snapshots")+"/") {
		t.Fatalf("mounts of a snapshot without parent: %+v", ms)
	}
	apply(t, ms, func(dir string) {
		must(t, os.WriteFile(filepath.Join(dir, "gone"), nil, 0o644))
		must(t, os.MkdirAll(filepath.Join(dir, "d", "old"), 0o755))
	})
	must(t, sn.Commit(ctx, "c", "a", nil))
	ms, err = sn.Prepare(ctx, "b", "c", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 1 || ms[0].Type != "overlay" {
		t.Fatalf("mounts of a snapshot with a parent: %+v", ms)
	}
	var upper string
	for _, o := range ms[0].Options {
		if v, ok := strings.CutPrefix(o, "upperdir="); ok {
			upper = v
		}
	}
	apply(t, ms, func(dir string) {
		must(t, os.Remove(filepath.Join(dir, "gone")))
		must(t, os.RemoveAll(filepath.Join(dir, "d")))
		must(t, os.Mkdir(filepath.Join(dir, "d"), 0o755))
	})
	var st unix.Stat_t
	if err := unix.Lstat(filepath.Join(upper, "gone"), &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFCHR || st.Rdev != 0 {
		t.Errorf("upper/gone is not a whiteout: %+v, %v", st, err)
	}
	buf := make([]byte, 8)
	if n, err := unix.Lgetxattr(filepath.Join(upper, "d"), "trusted.overlay.opaque", buf); err != nil || string(buf[:n]) != "y" {
		t.Errorf("upper/d is not opaque: %q, %v", buf[:max(n, 0)], err)
	}

	// Commit drops the work directory.
	must(t, sn.Commit(ctx, "c2", "b", nil))
	if _, err := os.Stat(filepath.Join(filepath.Dir(upper), "work")); !os.IsNotExist(err) {
		t.Errorf("work directory after commit: %v", err)
	}

	// A view of two layers is an overlay of lowerdirs only, nearest first.
	ms, err = sn.View(ctx, "v", "c2", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 1 || ms[0].Type != "overlay" || strings.Contains(strings.Join(ms[0].Options, ","), "upperdir") {
		t.Fatalf("mounts of a view of two layers: %+v", ms)
	}
}

// TestCrashLeftovers leaves what a killed process would (a temporary
// directory never recorded, a numeric directory never committed) and
// checks that opening the root removes both.
func TestCrashLeftovers(t *testing.T) {
	testenv.RequiresRoot(t)
	root := t.TempDir()
	sn, err := New(root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sn.Prepare(context.Background(), "kept", "", nil); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"snapshots/tmp-123/fs/etc", "snapshots/tmp-456/work", "snapshots/99/fs"} {
		must(t, os.MkdirAll(filepath.Join(root, d), 0o755))
	}
	if _, err := New(root, Options{}); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(filepath.Join(root, "snapshots"))
	if err != nil || len(entries) != 1 || entries[0].Name() != "1" {
		t.Fatalf("after reopening snapshots/ holds %v (%v), want the one recorded", entries, err)
	}
}

func apply(t *testing.T, ms []mount.Mount, fn func(dir string)) {
	t.Helper()
	dir := t.TempDir()
	must(t, mount.All(ms, dir))
	defer func() { must(t, mount.Unmount(dir)) }()
	fn(dir)
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
