package pathrs

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// evilTree builds, in a fresh temporary directory, a rootfs full of the
// symlinks an image can plant to escape, and returns its real path:
//
//	etc      -> /etc                  absolute escape (a loop inside the root)
//	a        -> ../../../..           relative escape (the root itself, inside)
//	x        -> /proc/self/root       magic link escape
//	hostdev  -> /dev                  absolute escape to a directory of devices
//	dangling -> /nonexistent/deep     dangling, absolute
//	dangrel  -> missing               dangling, relative
//	loop1    -> loop2 -> loop1        a loop
//	dir/                              a real directory
//	dir/up   -> ../../..              relative escape from a subdirectory
//	in       -> dir                   in-root, relative
//	inabs    -> /dir                  in-root, absolute
//	file                              a regular file
func evilTree(t testing.TB, base string) string {
	t.Helper()
	root, err := filepath.EvalSymlinks(base)
	if err != nil {
		t.Fatal(err)
	}
	links := map[string]string{
		"etc": "/etc", "a": "../../../..", "x": "/proc/self/root", "hostdev": "/dev",
		"dangling": "/nonexistent/deep", "dangrel": "missing",
		"loop1": "loop2", "loop2": "loop1",
		"in": "dir", "inabs": "/dir",
	}
	if err := os.Mkdir(filepath.Join(root, "dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	links["dir/up"] = "../../.."
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(root, name)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(root, "file"), []byte("inside"), 0o644); err != nil {
		t.Fatal(err)
	}
	return root
}

// openTestRoot opens root and closes it at the end of the test.
func openTestRoot(t testing.TB, root string) *Root {
	t.Helper()
	r, err := OpenRoot(root)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// realPath returns what the kernel says f refers to.
func realPath(t testing.TB, f *os.File) string {
	t.Helper()
	p, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(int(f.Fd())))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// assertInside fails the test unless f is root or below it.
func assertInside(t testing.TB, root string, f *os.File, what string) {
	t.Helper()
	p := realPath(t, f)
	if p != root && !strings.HasPrefix(p, root+"/") {
		t.Fatalf("%s: resolved to %s, outside the root %s", what, p, root)
	}
}

// assertAt fails the test unless f is exactly root/rel.
func assertAt(t testing.TB, root string, f *os.File, rel, what string) {
	t.Helper()
	want := filepath.Join(root, rel)
	if p := realPath(t, f); p != want {
		t.Fatalf("%s: resolved to %s, want %s", what, p, want)
	}
}
