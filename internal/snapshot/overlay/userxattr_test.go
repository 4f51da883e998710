package overlay

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/testenv"
)

// TestUserXattr checks Options.UserXattr, the rootless engine's overlay:
// the mounts ask for userxattr, the check mount passes with it, and an
// opaque directory is marked with user.overlay.opaque, not trusted.*.
func TestUserXattr(t *testing.T) {
	testenv.RequiresRoot(t)
	ctx := context.Background()
	root := t.TempDir()
	if err := SupportedWith(filepath.Join(root, "check"), Options{UserXattr: true}); err != nil {
		t.Fatalf("overlay with userxattr: %v", err)
	}
	sn, err := New(filepath.Join(root, "sn"), Options{UserXattr: true})
	if err != nil {
		t.Fatal(err)
	}
	ms, err := sn.Prepare(ctx, "a", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	apply(t, ms, func(dir string) { must(t, os.MkdirAll(filepath.Join(dir, "d", "old"), 0o755)) })
	must(t, sn.Commit(ctx, "c", "a", nil))
	if ms, err = sn.Prepare(ctx, "b", "c", nil); err != nil {
		t.Fatal(err)
	}
	if len(ms) != 1 || !slices.Contains(ms[0].Options, "userxattr") {
		t.Fatalf("mounts with UserXattr: %+v", ms)
	}
	var upper string
	for _, o := range ms[0].Options {
		if v, ok := strings.CutPrefix(o, "upperdir="); ok {
			upper = v
		}
	}
	apply(t, ms, func(dir string) {
		must(t, os.RemoveAll(filepath.Join(dir, "d")))
		must(t, os.Mkdir(filepath.Join(dir, "d"), 0o755))
	})
	buf := make([]byte, 8)
	if n, err := unix.Lgetxattr(filepath.Join(upper, "d"), "user.overlay.opaque", buf); err != nil || string(buf[:n]) != "y" {
		t.Errorf("upper/d is not opaque by user.overlay.opaque: %q, %v", buf[:max(n, 0)], err)
	}
	if _, err := unix.Lgetxattr(filepath.Join(upper, "d"), "trusted.overlay.opaque", buf); err == nil {
		t.Errorf("upper/d carries trusted.overlay.opaque with UserXattr")
	}
}
