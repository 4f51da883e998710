package containercopy

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"os"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/testenv"
)

func in(t *testing.T, rootfs, dst string, data []byte, opts InOptions) error {
	t.Helper()
	return In(context.Background(), rootfs, dst, bytes.NewReader(data), opts)
}

func TestInOwnership(t *testing.T) {
	testenv.RequiresRoot(t)
	f := newFixture(t)
	data := tarOf(t, entry{name: "d", typ: tar.TypeDir, uid: 42, gid: 43, mode: 0o750},
		entry{name: "d/x", body: "x", typ: tar.TypeReg, uid: 42, gid: 43, mode: 0o4755},
		entry{name: "d/l", link: "x", typ: tar.TypeSymlink, uid: 42, gid: 43})
	// Default: the container's user (the engine resolves it), modes kept.
	must(t, in(t, f.rootfs, "/data", data, InOptions{UID: 1000, GID: 1001}))
	for _, p := range []string{"d", "d/x", "d/l"} {
		if st := lstat(t, f.rootfs+"/data/"+p); st.Uid != 1000 || st.Gid != 1001 {
			t.Errorf("%s owned by %d:%d, want 1000:1001", p, st.Uid, st.Gid)
		}
	}
	if st := lstat(t, f.rootfs+"/data/d/x"); st.Mode&0o7777 != 0o4755 {
		t.Errorf("d/x mode %o, want 4755", st.Mode&0o7777)
	}
	// -a: the owners in the tar.
	must(t, in(t, f.rootfs, "/data", data, InOptions{Archive: true, UID: 1000, GID: 1001}))
	for _, p := range []string{"d", "d/x", "d/l"} {
		if st := lstat(t, f.rootfs+"/data/"+p); st.Uid != 42 || st.Gid != 43 {
			t.Errorf("-a: %s owned by %d:%d, want 42:43", p, st.Uid, st.Gid)
		}
	}
	f.checkHost(t)
}

// Copies through the container's symlinks land where the container would
// see them, never on the host.
func TestInThroughSymlinks(t *testing.T) {
	testenv.RequiresRoot(t)
	f := newFixture(t)
	for _, tc := range []struct {
		dst, name, lands string
	}{
		{dst: "/evil", name: "x1", lands: "/etc/x1"},              // dst is a symlink to /etc
		{dst: "/esc", name: "x2", lands: "/host/x2"},              // to ../host
		{dst: "/up", name: "x3", lands: "/x3"},                    // to ../../..
		{dst: "/data/updir/etc", name: "x4", lands: "/etc/x4"},    // through one
		{dst: "/", name: "evil/x5", lands: "/etc/x5"},             // an entry through one
		{dst: "/", name: "esc/x6", lands: "/host/x6"},             // an entry through one
		{dst: "/data", name: "updir/host/x7", lands: "/host/x7"},  // climbing
		{dst: "/data/dirlink", name: "x8", lands: "/data/dir/x8"}, // to a directory
		{dst: "data/dirlink/", name: "x9", lands: "/data/dir/x9"}, // relative, trailing "/"
		{dst: "/data/dir/.", name: "x10", lands: "/data/dir/x10"}, // "/."
		{dst: "/evil/../data", name: "x11", lands: "/data/x11"},   // ".." taken lexically, as docker
		{dst: "/data", name: "./x12", lands: "/data/x12"},         // "./" names
		{dst: "/data", name: "dangling/../x13", lands: ""},        // refused: ".."
		{dst: "/", name: "dangling/y", lands: "/nowhere/x/y"},     // made where a dangling link points
		{dst: "/", name: ".wh.data", lands: "/.wh.data"},          // not a whiteout
		{dst: "/data", name: "dir/sub/.wh..wh..opq", lands: "/data/dir/sub/.wh..wh..opq"},
	} {
		err := in(t, f.rootfs, tc.dst, tarOf(t, reg(tc.name, "payload")), InOptions{})
		if tc.lands == "" {
			if !errdefs.IsInvalidArgument(err) {
				t.Errorf("In(%q, %q): %v, want invalid argument", tc.dst, tc.name, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("In(%q, %q): %v", tc.dst, tc.name, err)
			continue
		}
		if b, err := os.ReadFile(f.rootfs + tc.lands); err != nil || string(b) != "payload" {
			t.Errorf("In(%q, %q): %s: %q, %v", tc.dst, tc.name, tc.lands, b, err)
		}
	}
	for _, p := range []string{"/data/file", "/data/dir/sub/b", "/data/dir/a"} {
		if _, err := os.Stat(f.rootfs + p); err != nil {
			t.Errorf("%s: %v (a whiteout was applied?)", p, err)
		}
	}
	for _, p := range []string{"/etc/x1", "/etc/x4", "/etc/x5", "/x3"} {
		if _, err := os.Lstat(p); err == nil {
			t.Errorf("%s exists on the host", p)
		}
	}
	f.checkHost(t)
}

func TestInMalicious(t *testing.T) {
	testenv.RequiresRoot(t)
	for name, data := range map[string][]byte{
		"dotdot":           tarOf(t, reg("../x", "bad")),
		"deep dotdot":      tarOf(t, dirEnt("a"), reg("a/../../x", "bad")),
		"absolute":         tarOf(t, reg("/x", "bad")),
		"hardlink dotdot":  tarOf(t, entry{name: "h", link: "../host/secret", typ: tar.TypeLink}),
		"hardlink abs":     tarOf(t, entry{name: "h", link: "/etc/passwd", typ: tar.TypeLink}),
		"hardlink outside": tarOf(t, entry{name: "h", link: "etc/passwd", typ: tar.TypeLink}), // outside dst
	} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			err := in(t, f.rootfs, "/data/dir", data, InOptions{})
			if !errdefs.IsInvalidArgument(err) {
				t.Errorf("In: %v, want invalid argument", err)
			}
			for _, p := range []string{"/x", "/data/x", "/data/dir/h"} {
				if _, err := os.Lstat(f.rootfs + p); err == nil {
					t.Errorf("%s was made", p)
				}
			}
			f.checkHost(t)
		})
	}
}

// A symlink made by the tar itself does not lead the next entries out.
func TestInOwnSymlink(t *testing.T) {
	testenv.RequiresRoot(t)
	f := newFixture(t)
	data := tarOf(t, entry{name: "out", link: "../../../host", typ: tar.TypeSymlink}, reg("out/pwned", "bad"),
		entry{name: "root", link: "/", typ: tar.TypeSymlink}, reg("root/pwned2", "p"))
	must(t, in(t, f.rootfs, "/data", data, InOptions{}))
	if readFile(t, f.rootfs+"/host/pwned") != "bad" || readFile(t, f.rootfs+"/pwned2") != "p" {
		t.Error("entries through the tar's symlinks not inside the rootfs")
	}
	f.checkHost(t)
}

func TestInSpecialFiles(t *testing.T) {
	testenv.RequiresRoot(t)
	f := newFixture(t)
	data := tarOf(t, reg("h1", "linked"), entry{name: "h2", link: "h1", typ: tar.TypeLink},
		entry{name: "fifo", typ: tar.TypeFifo, mode: 0o640},
		entry{name: "null", typ: tar.TypeChar, major: 1, minor: 3, mode: 0o666})
	must(t, in(t, f.rootfs, "/data/dir", data, InOptions{}))
	a, b := lstat(t, f.rootfs+"/data/dir/h1"), lstat(t, f.rootfs+"/data/dir/h2")
	if a.Ino != b.Ino || a.Nlink != 2 {
		t.Errorf("h1 and h2 are not one file: %d/%d nlink %d", a.Ino, b.Ino, a.Nlink)
	}
	if st := lstat(t, f.rootfs+"/data/dir/fifo"); st.Mode&unix.S_IFMT != unix.S_IFIFO || st.Mode&0o777 != 0o640 {
		t.Errorf("fifo: mode %o", st.Mode)
	}
	if st := lstat(t, f.rootfs+"/data/dir/null"); st.Mode&unix.S_IFMT != unix.S_IFCHR || st.Rdev != unix.Mkdev(1, 3) {
		t.Errorf("null: mode %o rdev %x", st.Mode, st.Rdev)
	}
}

func TestInErrors(t *testing.T) {
	testenv.RequiresRoot(t)
	f := newFixture(t)
	data := tarOf(t, reg("x", "x"))
	err := in(t, f.rootfs, "/nope", data, InOptions{})
	var nf *FileNotFoundError
	if !errors.As(err, &nf) || err.Error() != "Could not find the file /nope in container" {
		t.Errorf("In to a missing dir: %v", err)
	}
	if err := in(t, f.rootfs, "/dangling", data, InOptions{}); !errdefs.IsNotFound(err) {
		t.Errorf("In to a dangling symlink: %v, want not found", err)
	}
	if err := in(t, f.rootfs, "/data/file", data, InOptions{}); !errdefs.IsInvalidArgument(err) {
		t.Errorf("In to a file: %v, want invalid argument", err)
	}
	// A file over a directory, a directory over a file: refused, as docker's.
	if err := in(t, f.rootfs, "/data", tarOf(t, reg("dir", "x")), InOptions{}); !errdefs.IsFailedPrecondition(err) {
		t.Errorf("file over a directory: %v, want failed precondition", err)
	}
	if err := in(t, f.rootfs, "/data", tarOf(t, dirEnt("file")), InOptions{}); !errdefs.IsFailedPrecondition(err) {
		t.Errorf("directory over a file: %v, want failed precondition", err)
	}
	if readFile(t, f.rootfs+"/data/dir/a") != "a" || readFile(t, f.rootfs+"/data/file") != "file" {
		t.Error("a refused entry replaced something")
	}
	if err := in(t, f.rootfs, "/data", tarOf(t, reg("dir", "x")), InOptions{AllowOverwriteDirWithFile: true}); err != nil {
		t.Errorf("file over a directory, allowed: %v", err)
	}
	if err := in(t, f.rootfs, "/data", []byte("not a tar, not at all, and long enough to fill a header block?"), InOptions{}); err == nil {
		t.Error("In of garbage succeeded")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := In(ctx, f.rootfs, "/data", bytes.NewReader(data), InOptions{}); !errors.Is(err, context.Canceled) {
		t.Errorf("In canceled: %v", err)
	}
	f.checkHost(t)
}
