package pathrs

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/berth-project/berth/internal/testenv"
	"golang.org/x/sys/unix"
)

func openPath(t *testing.T, p string, flags int) *os.File {
	t.Helper()
	f, err := os.OpenFile(p, flags|unix.O_PATH, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func TestIsDevNull(t *testing.T) {
	fake := filepath.Join(t.TempDir(), "null")
	if err := os.WriteFile(fake, nil, 0o666); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path string
		want bool
	}{
		{"/dev/null", true},
		{"/dev/zero", false},
		{fake, false},
	} {
		got, err := IsDevNull(openPath(t, tc.path, 0))
		if err != nil || got != tc.want {
			t.Errorf("IsDevNull(%s) = %v, %v; want %v", tc.path, got, err, tc.want)
		}
	}
}

func TestIsDevNullOnAFakeNode(t *testing.T) {
	testenv.RequiresRoot(t)
	root := evilTree(t, t.TempDir())
	r := openTestRoot(t, root)
	if err := r.Mknod("null", unix.S_IFBLK|0o666, unix.Mkdev(1, 3)); err != nil {
		t.Fatal(err)
	}
	f, err := r.Open("null", unix.O_PATH)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got, err := IsDevNull(f); err != nil || got {
		t.Fatalf("IsDevNull(block device 1:3) = %v, %v; want false", got, err)
	}
}

func TestReopen(t *testing.T) {
	root := evilTree(t, t.TempDir())
	r := openTestRoot(t, root)
	h, err := r.Open("in/up/file", unix.O_PATH)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	f, err := Reopen(h, unix.O_RDWR)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	assertAt(t, root, f, "file", "Reopen")
	if _, err := f.WriteAt([]byte("INSIDE"), 0); err != nil {
		t.Fatalf("write through the reopened file: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(root, "file")); string(b) != "INSIDE" {
		t.Fatalf("file holds %q after the write, want INSIDE", b)
	}

	link := openPath(t, filepath.Join(root, "in"), unix.O_NOFOLLOW)
	if _, err := Reopen(link, unix.O_RDONLY); !errors.Is(err, unix.ELOOP) {
		t.Fatalf("Reopen(symlink) = %v, want ELOOP", err)
	}
}

func TestFdPathNamesTheInode(t *testing.T) {
	root := evilTree(t, t.TempDir())
	r := openTestRoot(t, root)
	h, err := r.MkdirAll("in/target", 0o755)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	// Move the directory away and plant a symlink to "/" in its place: the
	// fd path must still name the moved directory.
	if err := os.Rename(filepath.Join(root, "dir/target"), filepath.Join(root, "dir/moved")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/", filepath.Join(root, "dir/target")); err != nil {
		t.Fatal(err)
	}
	var got, want unix.Stat_t
	if err := unix.Stat(FdPath(h), &got); err != nil {
		t.Fatal(err)
	}
	if err := unix.Stat(filepath.Join(root, "dir/moved"), &want); err != nil {
		t.Fatal(err)
	}
	if got.Dev != want.Dev || got.Ino != want.Ino {
		t.Fatalf("FdPath %s names %d:%d, want dir/moved %d:%d", FdPath(h), got.Dev, got.Ino, want.Dev, want.Ino)
	}
}
