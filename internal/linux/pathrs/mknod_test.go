package pathrs

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/berth-project/berth/internal/testenv"
	"golang.org/x/sys/unix"
)

func TestMknod(t *testing.T) {
	testenv.RequiresRoot(t)
	root := evilTree(t, t.TempDir())
	r := openTestRoot(t, root)
	null := unix.Mkdev(1, 3)

	if err := r.Mknod("a/dev/null", unix.S_IFCHR|0o666, null); err != nil {
		t.Fatal(err)
	}
	var st unix.Stat_t
	if err := unix.Lstat(filepath.Join(root, "dev/null"), &st); err != nil {
		t.Fatal(err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFCHR || st.Rdev != null {
		t.Fatalf("dev/null: mode %o rdev %d, want a char device 1:3", st.Mode, st.Rdev)
	}
	if err := r.Mknod("/dev/null", unix.S_IFCHR|0o666, null); err != nil {
		t.Fatalf("the same node again: %v", err)
	}
	if err := r.Mknod("/dev/null", unix.S_IFCHR|0o666, unix.Mkdev(1, 5)); err == nil {
		t.Fatal("a different device over an existing node succeeded")
	}
	if err := r.Mknod("/dev/null", unix.S_IFBLK|0o666, null); err == nil {
		t.Fatal("a block device over a char device succeeded")
	}
	if err := r.Mknod("in/fifo", unix.S_IFIFO|0o600, 0); err != nil {
		t.Fatal(err)
	}
	if err := unix.Lstat(filepath.Join(root, "dir/fifo"), &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFIFO {
		t.Fatalf("dir/fifo: %v, mode %o; want a fifo", err, st.Mode)
	}

	// Existing files and symlinks are never replaced nor followed.
	for _, p := range []string{"file", "dangling", "dangrel", "etc", "dir", "loop1"} {
		if err := r.Mknod(p, unix.S_IFCHR|0o666, null); err == nil {
			t.Errorf("Mknod over existing %q succeeded", p)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(root, "file")); string(b) != "inside" {
		t.Errorf("Mknod changed an existing file: %q", b)
	}
	// hostdev -> /dev is the root's own dev (made above).
	if err := r.Mknod("hostdev/berth-test", unix.S_IFCHR|0o666, null); err != nil {
		t.Fatal(err)
	}
	if err := unix.Lstat(filepath.Join(root, "dev/berth-test"), &st); err != nil {
		t.Fatalf("hostdev/berth-test did not land in the root's dev: %v", err)
	}
	// Parents that escape or dangle are refused, and nothing appears on the host.
	for _, p := range []string{"etc/berth-test", "dangling/berth-test", "x/berth-test"} {
		if err := r.Mknod(p, unix.S_IFCHR|0o666, null); err == nil {
			t.Errorf("Mknod(%q) succeeded, want an error", p)
		}
	}
	for _, p := range []string{"/dev/berth-test", "/etc/berth-test", "/nonexistent"} {
		if _, err := os.Lstat(p); err == nil {
			t.Fatalf("Mknod created %s on the host", p)
		}
	}
}
