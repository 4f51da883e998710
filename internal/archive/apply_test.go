package archive

import (
	"archive/tar"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/testenv"
)

func apply(t *testing.T, root string, data []byte, opts ApplyOptions) {
	t.Helper()
	n, err := Apply(context.Background(), root, bytes.NewReader(data), opts)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if n != int64(len(data)) {
		t.Fatalf("Apply read %d bytes, want %d", n, len(data))
	}
}

func lstat(t *testing.T, p string) unix.Stat_t {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Lstat(p, &st); err != nil {
		t.Fatal(err)
	}
	return st
}

func TestApplyRoundTrip(t *testing.T) {
	testenv.RequiresRoot(t)
	s := newSandbox(t)
	mt := time.Unix(1500000000, 123456789)
	d := dir("etc")
	d.uid, d.gid, d.mode, d.mtime = 1, 2, 0o750, mt
	f := file("etc/f", "hello")
	f.uid, f.gid, f.mode, f.mtime = 3, 4, 0o640, mt
	f.pax = map[string]string{"SCHILY.xattr.user.berth": "yes"}
	suid := file("bin/su", "#!")
	suid.mode = 0o4755
	l := symlink("etc/l", "f")
	l.uid, l.gid, l.mtime = 5, 6, mt
	fifo := ent{name: "run/p", typ: tar.TypeFifo, mode: 0o620}
	null := ent{name: "dev/null", typ: tar.TypeChar, major: 1, minor: 3, mode: 0o666}
	blk := ent{name: "dev/loop9", typ: tar.TypeBlock, major: 7, minor: 9, mode: 0o660}
	data := layer(t, d, f, suid, l, hardlink("etc/h", "etc/f"), fifo, null, blk, file("./dotted", "x"))
	apply(t, s.root, data, ApplyOptions{AllowDevices: true})
	s.checkHost(t)

	check := func(name string, typ, perm uint32, uid, gid int) unix.Stat_t {
		t.Helper()
		st := lstat(t, filepath.Join(s.root, name))
		if st.Mode&unix.S_IFMT != typ || (perm != 0 && st.Mode&0o7777 != perm) || int(st.Uid) != uid || int(st.Gid) != gid {
			t.Errorf("%s: mode %o owner %d:%d, want %o %o %d:%d", name, st.Mode, st.Uid, st.Gid, typ, perm, uid, gid)
		}
		return st
	}
	for _, st := range []unix.Stat_t{
		check("etc", unix.S_IFDIR, 0o750, 1, 2),
		check("etc/f", unix.S_IFREG, 0o640, 3, 4),
		check("etc/l", unix.S_IFLNK, 0, 5, 6),
	} {
		if st.Mtim.Sec != mt.Unix() || st.Mtim.Nsec != int64(mt.Nanosecond()) {
			t.Errorf("mtime %v, want %v", st.Mtim, mt)
		}
	}
	check("bin/su", unix.S_IFREG, 0o4755, 0, 0)
	check("run/p", unix.S_IFIFO, 0o620, 0, 0)
	if st := check("dev/null", unix.S_IFCHR, 0o666, 0, 0); st.Rdev != unix.Mkdev(1, 3) {
		t.Errorf("dev/null rdev %x", st.Rdev)
	}
	if st := check("dev/loop9", unix.S_IFBLK, 0o660, 0, 0); st.Rdev != unix.Mkdev(7, 9) {
		t.Errorf("dev/loop9 rdev %x", st.Rdev)
	}
	if a, b := lstat(t, filepath.Join(s.root, "etc/f")), lstat(t, filepath.Join(s.root, "etc/h")); a.Ino != b.Ino || a.Nlink != 2 {
		t.Errorf("etc/h is not a hard link of etc/f")
	}
	if got, _ := os.Readlink(filepath.Join(s.root, "etc/l")); got != "f" {
		t.Errorf("etc/l -> %q", got)
	}
	if b, _ := os.ReadFile(filepath.Join(s.root, "etc/h")); string(b) != "hello" {
		t.Errorf("etc/h holds %q", b)
	}
	buf := make([]byte, 16)
	if n, err := unix.Lgetxattr(filepath.Join(s.root, "etc/f"), "user.berth", buf); err != nil || string(buf[:n]) != "yes" {
		t.Errorf("xattr user.berth: %q %v", buf[:n], err)
	}
	if _, err := os.Lstat(filepath.Join(s.root, "dotted")); err != nil {
		t.Error(err)
	}
}

func lowerLayer(t *testing.T) []byte {
	return layer(t, file("a", "a"), dir("d"), file("d/old", "old"), dir("d/sub"),
		file("d/sub/deep", ""), dir("e"), file("e/x", ""), file("keep", ""))
}

func TestApplyWhiteouts(t *testing.T) {
	testenv.RequiresRoot(t)
	s := newSandbox(t)
	apply(t, s.root, lowerLayer(t), ApplyOptions{})
	// The opaque marker before its siblings in d, after them in e.
	upper := layer(t, file(".wh.a", ""), dir("d"), file("d/.wh..wh..opq", ""), file("d/new", ""),
		dir("e"), file("e/y", ""), file("e/.wh..wh..opq", ""), file(".wh.nothing", ""), file("gone/.wh.x", ""))
	apply(t, s.root, upper, ApplyOptions{})
	s.checkHost(t)
	for name, want := range map[string]bool{
		"a": false, "d": true, "d/old": false, "d/sub": false, "d/new": true,
		"e/x": false, "e/y": true, "keep": true, "gone": false, ".wh.a": false, "d/.wh..wh..opq": false,
	} {
		_, err := os.Lstat(filepath.Join(s.root, name))
		if got := err == nil; got != want {
			t.Errorf("%s exists: %v, want %v", name, got, want)
		}
	}
}

func TestApplyOverlayWhiteouts(t *testing.T) {
	testenv.RequiresRoot(t)
	s := newSandbox(t)
	upper := layer(t, file(".wh.a", ""), dir("d"), file("d/.wh..wh..opq", ""), file("d/new", ""), file("x/y/.wh.z", ""))
	apply(t, s.root, upper, ApplyOptions{OverlayWhiteouts: true})
	s.checkHost(t)
	for _, name := range []string{"a", "x/y/z"} {
		if st := lstat(t, filepath.Join(s.root, name)); st.Mode&unix.S_IFMT != unix.S_IFCHR || st.Rdev != 0 {
			t.Errorf("%s: mode %o rdev %x, want a 0:0 char device", name, st.Mode, st.Rdev)
		}
	}
	buf := make([]byte, 4)
	if n, err := unix.Lgetxattr(filepath.Join(s.root, "d"), "trusted.overlay.opaque", buf); err != nil || string(buf[:n]) != "y" {
		t.Errorf("d: trusted.overlay.opaque %q %v", buf[:n], err)
	}
	if _, err := os.Lstat(filepath.Join(s.root, "d/new")); err != nil {
		t.Error(err)
	}
}

func TestApplyReplaces(t *testing.T) {
	testenv.RequiresRoot(t)
	s := newSandbox(t)
	apply(t, s.root, lowerLayer(t), ApplyOptions{})
	apply(t, s.root, layer(t, file("d", "now a file"), dir("a"), symlink("e", "d")), ApplyOptions{})
	for name, typ := range map[string]uint32{"d": unix.S_IFREG, "a": unix.S_IFDIR, "e": unix.S_IFLNK} {
		if st := lstat(t, filepath.Join(s.root, name)); st.Mode&unix.S_IFMT != typ {
			t.Errorf("%s: mode %o, want type %o", name, st.Mode, typ)
		}
	}
}

func TestApplyCanceled(t *testing.T) {
	testenv.RequiresRoot(t)
	s := newSandbox(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Apply(ctx, s.root, bytes.NewReader(lowerLayer(t)), ApplyOptions{}); err == nil {
		t.Fatal("Apply with a canceled context succeeded")
	}
}
