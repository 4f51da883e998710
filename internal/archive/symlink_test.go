package archive

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/berth-project/berth/internal/testenv"
)

// usrMerge is the lower layer of a usr-merged distribution: lib and bin are
// symlinks into usr, one relative and one absolute.
func usrMerge(t *testing.T) []byte {
	libDir := dir("usr/lib")
	libDir.mode, libDir.uid, libDir.gid = 0o750, 7, 8
	return layer(t, dir("usr"), libDir, file("usr/lib/old", "old"), dir("usr/bin"),
		symlink("lib", "usr/lib"), symlink("bin", "/usr/bin"))
}

func TestApplyThroughLowerSymlink(t *testing.T) {
	testenv.RequiresRoot(t)
	s := newSandbox(t)
	apply(t, s.root, usrMerge(t), ApplyOptions{})
	apply(t, s.root, layer(t, file("lib/x86_64-linux-gnu/libfoo.so", "foo"), file("bin/sh", "#!"),
		file("lib/.wh.old", ""), hardlink("bin/sh2", "bin/sh")), ApplyOptions{})
	s.checkHost(t)
	for name, want := range map[string]bool{
		"usr/lib/x86_64-linux-gnu/libfoo.so": true, "usr/bin/sh": true, "usr/bin/sh2": true,
		"usr/lib/old": false, "lib/x86_64-linux-gnu": true,
	} {
		_, err := os.Lstat(filepath.Join(s.root, name))
		if got := err == nil; got != want {
			t.Errorf("%s exists: %v, want %v", name, got, want)
		}
	}
	// The symlinks are still symlinks, and the lower directory kept its
	// metadata (nothing made a fresh one in its place).
	for _, name := range []string{"lib", "bin"} {
		if st, err := os.Lstat(filepath.Join(s.root, name)); err != nil || st.Mode()&os.ModeSymlink == 0 {
			t.Errorf("%s: %v %v, want a symlink", name, st, err)
		}
	}
	if st := lstat(t, filepath.Join(s.root, "usr/lib")); st.Mode&0o7777 != 0o750 || st.Uid != 7 || st.Gid != 8 {
		t.Errorf("usr/lib: mode %o owner %d:%d, want 750 7:8", st.Mode&0o7777, st.Uid, st.Gid)
	}
}

// An opaque directory keeps what the same layer wrote into it, also when the
// layer named it through a symlink.
func TestApplyOpaqueThroughSymlink(t *testing.T) {
	testenv.RequiresRoot(t)
	s := newSandbox(t)
	apply(t, s.root, usrMerge(t), ApplyOptions{})
	apply(t, s.root, layer(t, file("lib/new", "new"), file("usr/lib/.wh..wh..opq", "")), ApplyOptions{})
	for name, want := range map[string]bool{"usr/lib/new": true, "usr/lib/old": false, "lib": true} {
		_, err := os.Lstat(filepath.Join(s.root, name))
		if got := err == nil; got != want {
			t.Errorf("%s exists: %v, want %v", name, got, want)
		}
	}
}

// A directory entry replaces a symlink of a lower layer (the last component
// is never followed), as docker and containerd do.
func TestApplyDirReplacesLowerSymlink(t *testing.T) {
	testenv.RequiresRoot(t)
	s := newSandbox(t)
	apply(t, s.root, usrMerge(t), ApplyOptions{})
	apply(t, s.root, layer(t, dir("lib"), file("lib/own", "")), ApplyOptions{})
	if st := lstat(t, filepath.Join(s.root, "lib")); st.Mode&0o170000 != 0o040000 {
		t.Fatalf("lib: mode %o, want a directory", st.Mode)
	}
	if _, err := os.Lstat(filepath.Join(s.root, "usr/lib/own")); !os.IsNotExist(err) {
		t.Errorf("usr/lib/own: %v, want it absent", err)
	}
}
