package native

import (
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/testenv"
)

// TestCopyTreeKeepsWhatLayersHold copies what the chain test of the
// testsuite does not make: sockets, a hard-linked symlink, trusted.* and
// security.capability xattrs, and a directory's own times and mode.
func TestCopyTreeKeepsWhatLayersHold(t *testing.T) {
	testenv.RequiresRoot(t)
	src := filepath.Join(t.TempDir(), "src")
	must(t, os.Mkdir(src, 0o1777))
	must(t, unix.Chmod(src, 0o1777))

	l, err := net.Listen("unix", filepath.Join(src, "sock"))
	must(t, err)
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	l.Close()

	must(t, os.Symlink("/target", filepath.Join(src, "sym")))
	must(t, os.Link(filepath.Join(src, "sym"), filepath.Join(src, "sym-link")))
	must(t, os.WriteFile(filepath.Join(src, "ping"), []byte("x"), 0o755))
	capV2 := []byte{0, 0, 0, 2, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0} // cap_net_raw permitted
	must(t, unix.Setxattr(filepath.Join(src, "ping"), "security.capability", capV2, 0))
	must(t, unix.Lsetxattr(filepath.Join(src, "sym"), "trusted.berth", []byte("t"), 0))
	when := time.Date(2001, 2, 3, 4, 5, 6, 7, time.UTC)
	must(t, os.Chtimes(src, when, when))

	dst := filepath.Join(t.TempDir(), "dst")
	must(t, copyTree(src, dst))

	var st unix.Stat_t
	must(t, unix.Lstat(filepath.Join(dst, "sock"), &st))
	if st.Mode&unix.S_IFMT != unix.S_IFSOCK {
		t.Errorf("sock copied as %#o", st.Mode)
	}
	a, err := os.Lstat(filepath.Join(dst, "sym"))
	must(t, err)
	b, err := os.Lstat(filepath.Join(dst, "sym-link"))
	must(t, err)
	if !os.SameFile(a, b) || a.Mode()&os.ModeSymlink == 0 {
		t.Errorf("sym and sym-link: not one symlink (%v, %v)", a.Mode(), b.Mode())
	}
	buf := make([]byte, 64)
	if n, err := unix.Getxattr(filepath.Join(dst, "ping"), "security.capability", buf); err != nil || string(buf[:n]) != string(capV2) {
		t.Errorf("security.capability of ping: %x, %v", buf[:max(n, 0)], err)
	}
	if n, err := unix.Lgetxattr(filepath.Join(dst, "sym"), "trusted.berth", buf); err != nil || string(buf[:n]) != "t" {
		t.Errorf("trusted.berth of sym: %q, %v", buf[:max(n, 0)], err)
	}
	must(t, unix.Lstat(dst, &st))
	if st.Mode != unix.S_IFDIR|0o1777 || st.Mtim.Nano() != when.UnixNano() {
		t.Errorf("the copied root: mode %#o mtime %v, want %#o %v", st.Mode, time.Unix(0, st.Mtim.Nano()), unix.S_IFDIR|0o1777, when)
	}
}

func TestCopyTreeRefusesAFile(t *testing.T) {
	f := filepath.Join(t.TempDir(), "f")
	must(t, os.WriteFile(f, nil, 0o644))
	if err := copyTree(f, filepath.Join(t.TempDir(), "dst")); err == nil {
		t.Fatal("copied a file as a tree")
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
