package pathrs

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

func TestOpenStaysInside(t *testing.T) {
	root := evilTree(t, t.TempDir())
	r := openTestRoot(t, root)
	if r.Path() != root {
		t.Fatalf("Path() = %q, want %q", r.Path(), root)
	}
	for _, tc := range []struct {
		path string
		want string // where it must land, relative to the root; "" when it must not exist
		err  error
	}{
		// etc -> /etc resolves to itself inside the root: a loop, not the host's /etc.
		{path: "etc/passwd", err: unix.ELOOP},
		{path: "/etc/passwd", err: unix.ELOOP},
		{path: "../../../../etc/passwd", err: unix.ELOOP},
		{path: "a", want: "."},
		{path: "a/a/a/etc", err: unix.ELOOP},
		{path: "a/file", want: "file"},
		{path: "x", err: unix.ENOENT},
		{path: "x/etc/passwd", err: unix.ENOENT},
		{path: "hostdev/null", err: unix.ENOENT},
		{path: "dangling", err: unix.ENOENT},
		{path: "dangrel", err: unix.ENOENT},
		{path: "loop1", err: unix.ELOOP},
		{path: "dir/up", want: "."},
		{path: "dir/up/file", want: "file"},
		{path: "in/../../..", want: "."},
		{path: "inabs", want: "dir"},
		{path: "/in/../file", want: "file"},
		{path: "", want: "."},
		{path: "/", want: "."},
	} {
		f, err := r.Open(tc.path, unix.O_PATH)
		if tc.err != nil {
			if !errors.Is(err, tc.err) {
				if err == nil {
					assertInside(t, root, f, tc.path)
					f.Close()
				}
				t.Errorf("Open(%q) = %v, want %v", tc.path, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("Open(%q): %v", tc.path, err)
			continue
		}
		assertAt(t, root, f, tc.want, "Open("+tc.path+")")
		f.Close()
	}
}

func TestOpenReadsThroughInRootSymlink(t *testing.T) {
	root := evilTree(t, t.TempDir())
	r := openTestRoot(t, root)
	f, err := r.Open("dir/up/a/file", unix.O_RDONLY)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, 16)
	n, _ := f.Read(b)
	if string(b[:n]) != "inside" {
		t.Fatalf("read %q, want %q", b[:n], "inside")
	}
	if _, err := r.Open("new", unix.O_CREAT|unix.O_WRONLY); !errors.Is(err, unix.EINVAL) {
		t.Fatalf("Open with O_CREAT = %v, want EINVAL", err)
	}
	if _, err := r.Open("dir", unix.O_TMPFILE|unix.O_RDWR); !errors.Is(err, unix.EINVAL) {
		t.Fatalf("Open with O_TMPFILE = %v, want EINVAL", err)
	}
	d, err := r.Open("dir", unix.O_RDONLY|unix.O_DIRECTORY)
	if err != nil {
		t.Fatalf("Open a directory with O_DIRECTORY: %v", err)
	}
	d.Close()
}

func TestMkdirAll(t *testing.T) {
	root := evilTree(t, t.TempDir())
	r := openTestRoot(t, root)
	for _, tc := range []struct{ path, want string }{
		{"a/b/c", "b/c"},                // through a symlink that points above the root
		{"in/new/deep", "dir/new/deep"}, // through an in-root relative symlink
		{"/inabs/abs", "dir/abs"},       // through an in-root absolute symlink
		{"dir/up/up2", "up2"},
		{"n1/../n2", "n2"},
		{"dir", "dir"},
		{"/", "."},
	} {
		f, err := r.MkdirAll(tc.path, 0o755)
		if err != nil {
			t.Errorf("MkdirAll(%q): %v", tc.path, err)
			continue
		}
		assertAt(t, root, f, tc.want, "MkdirAll("+tc.path+")")
		f.Close()
		if st, err := os.Stat(filepath.Join(root, tc.want)); err != nil || !st.IsDir() {
			t.Errorf("MkdirAll(%q): %s is not a directory (%v)", tc.path, tc.want, err)
		}
	}
	for _, p := range []string{"file", "file/sub", "etc/berth-test", "dangling/x", "dangrel", "loop1/x", "x/y"} {
		f, err := r.MkdirAll(p, 0o755)
		if err == nil {
			assertInside(t, root, f, "MkdirAll("+p+")")
			f.Close()
			t.Errorf("MkdirAll(%q) succeeded, want an error", p)
		}
	}
	if _, err := os.Lstat("/etc/berth-test"); err == nil {
		t.Fatal("MkdirAll created /etc/berth-test on the host")
	}
	if _, err := os.Lstat("/nonexistent"); err == nil {
		t.Fatal("MkdirAll created /nonexistent on the host")
	}
}

func TestMkFile(t *testing.T) {
	root := evilTree(t, t.TempDir())
	r := openTestRoot(t, root)
	for _, tc := range []struct{ path, want string }{
		{"a/newfile", "newfile"},
		{"in/sub/f", "dir/sub/f"},
		{"file", "file"},
		{"dir/up/file", "file"},
	} {
		f, err := r.MkFile(tc.path, 0o600)
		if err != nil {
			t.Errorf("MkFile(%q): %v", tc.path, err)
			continue
		}
		assertAt(t, root, f, tc.want, "MkFile("+tc.path+")")
		f.Close()
		if st, err := os.Stat(filepath.Join(root, tc.want)); err != nil || !st.Mode().IsRegular() {
			t.Errorf("MkFile(%q): %s is not a regular file (%v)", tc.path, tc.want, err)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(root, "file")); string(b) != "inside" {
		t.Errorf("MkFile changed an existing file: %q", b)
	}
	for _, p := range []string{"dir", "a", "etc/berth-test", "dangling", "dangrel", "hostdev/berth-test", "loop1", "/"} {
		f, err := r.MkFile(p, 0o600)
		if err == nil {
			assertInside(t, root, f, "MkFile("+p+")")
			f.Close()
			t.Errorf("MkFile(%q) succeeded, want an error", p)
		}
	}
	for _, p := range []string{"/etc/berth-test", "/dev/berth-test", "/nonexistent", "/missing"} {
		if _, err := os.Lstat(p); err == nil {
			t.Fatalf("MkFile created %s on the host", p)
		}
	}
}

func TestSymlink(t *testing.T) {
	root := evilTree(t, t.TempDir())
	r := openTestRoot(t, root)
	if err := r.Symlink("/etc/shadow", "a/lnk"); err != nil {
		t.Fatal(err)
	}
	if got, err := os.Readlink(filepath.Join(root, "lnk")); err != nil || got != "/etc/shadow" {
		t.Fatalf("readlink lnk = %q, %v; want /etc/shadow", got, err)
	}
	if err := r.Symlink("/etc/shadow", "lnk"); err != nil {
		t.Fatalf("the same symlink again: %v", err)
	}
	if err := r.Symlink("/other", "lnk"); err == nil {
		t.Fatal("a different symlink over an existing one succeeded")
	}
	if err := r.Symlink("/etc/shadow", "file"); err == nil {
		t.Fatal("a symlink over a regular file succeeded")
	}
	if err := r.Symlink("t", "in/deep/l"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(filepath.Join(root, "dir/deep/l")); err != nil {
		t.Fatalf("symlink through in-root symlink: %v", err)
	}
	if err := r.Symlink("/etc/shadow", "dangling"); err == nil {
		t.Fatal("a symlink over a different dangling symlink succeeded")
	}
	for _, p := range []string{"etc/berth-test", "hostdev/berth-test", "dangling/l"} {
		if err := r.Symlink("t", p); err == nil {
			t.Errorf("Symlink at %q succeeded, want an error", p)
		}
	}
	for _, p := range []string{"/etc/berth-test", "/dev/berth-test"} {
		if _, err := os.Lstat(p); err == nil {
			t.Fatalf("Symlink created %s on the host", p)
		}
	}
}

func TestIsSymlinkedProc(t *testing.T) {
	root := evilTree(t, t.TempDir())
	if got, err := IsSymlinkedProc(root); err != nil || got {
		t.Fatalf("missing proc: IsSymlinkedProc = %v, %v; want false", got, err)
	}
	if err := os.Symlink("/etc", filepath.Join(root, "proc")); err != nil {
		t.Fatal(err)
	}
	if got, err := IsSymlinkedProc(root); err != nil || !got {
		t.Fatalf("symlinked proc: IsSymlinkedProc = %v, %v; want true", got, err)
	}
	other := t.TempDir()
	if err := os.Mkdir(filepath.Join(other, "proc"), 0o555); err != nil {
		t.Fatal(err)
	}
	if got, err := IsSymlinkedProc(other); err != nil || got {
		t.Fatalf("directory proc: IsSymlinkedProc = %v, %v; want false", got, err)
	}
}
