package containercopy

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/testenv"
)

// copyIn is `berth cp SRC CTR:DST` as the CLI and engine do it.
func copyIn(t *testing.T, rootfs, src, dst string, follow bool) error {
	t.Helper()
	dest, err := StatDest(rootfs, dst)
	if err != nil {
		return err
	}
	rc, dir, err := TarPath(context.Background(), src, TarOptions{FollowLink: follow, Dest: dest})
	if err != nil {
		return err
	}
	defer rc.Close()
	return In(context.Background(), rootfs, dir, rc, InOptions{})
}

// copyOut is `berth cp CTR:SRC DST`.
func copyOut(t *testing.T, rootfs, src, dst string, follow bool) error {
	t.Helper()
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(Out(context.Background(), rootfs, src, OutOptions{FollowLink: follow}, pw)) }()
	err := ExtractTo(context.Background(), dst, pr)
	pr.CloseWithError(io.ErrClosedPipe)
	return err
}

// hostTree makes the host side of the copies: a file, a directory, a
// symlink to each.
func hostTree(t *testing.T, f fixture) string {
	t.Helper()
	src := filepath.Join(f.tmp, "out")
	mkdirs(t, src+"/d/sub")
	write(t, src+"/a", "host a")
	write(t, src+"/d/x", "host x")
	write(t, src+"/d/sub/y", "host y")
	must(t, os.Symlink("a", src+"/la"))
	must(t, os.Symlink("d", src+"/ld"))
	return src
}

// The table of docker cp's documentation, host to container.
func TestCopyIn(t *testing.T) {
	testenv.RequiresRoot(t)
	for _, tc := range []struct {
		name, src, dst string
		follow         bool
		want           map[string]string // container path → content ("" for a directory)
		err            error
	}{
		{name: "file into dir", src: "a", dst: "/data", want: map[string]string{"/data/a": "host a"}},
		{name: "file into dir/", src: "a", dst: "/data/", want: map[string]string{"/data/a": "host a"}},
		{name: "file to new name", src: "a", dst: "/data/b", want: map[string]string{"/data/b": "host a"}},
		{name: "file over file", src: "a", dst: "/data/file", want: map[string]string{"/data/file": "host a"}},
		{name: "file to missing dir/", src: "a", dst: "/data/nodir/", err: errdefs.ErrNotFound},
		{name: "file in missing parent", src: "a", dst: "/nodir/b", err: errdefs.ErrNotFound},
		{name: "dir into dir", src: "d", dst: "/data", want: map[string]string{"/data/d": "", "/data/d/x": "host x", "/data/d/sub/y": "host y"}},
		{name: "dir to new name", src: "d", dst: "/data/e", want: map[string]string{"/data/e": "", "/data/e/x": "host x", "/data/e/sub/y": "host y"}},
		{name: "dir to new name/", src: "d/", dst: "/data/e/", want: map[string]string{"/data/e/x": "host x"}},
		{name: "dir contents into dir", src: "d/.", dst: "/data/dir", want: map[string]string{"/data/dir/x": "host x", "/data/dir/a": "a", "/data/dir/sub/y": "host y", "/data/dir/sub/b": "b"}},
		{name: "dir contents to new name", src: "d/.", dst: "/data/e", want: map[string]string{"/data/e/x": "host x"}},
		{name: "dir over file", src: "d", dst: "/data/file", err: errdefs.ErrFailedPrecondition},
		{name: "dir over a dir's file", src: "d", dst: "/data/dir", want: map[string]string{"/data/dir/d/x": "host x"}},
		{name: "symlink itself", src: "la", dst: "/data", want: map[string]string{"/data/la": "@a"}},
		{name: "-L file", src: "la", dst: "/data", follow: true, want: map[string]string{"/data/la": "host a"}},
		{name: "-L dir", src: "ld", dst: "/data", follow: true, want: map[string]string{"/data/ld/x": "host x"}},
		{name: "dst symlink to dir", src: "a", dst: "/data/dirlink", want: map[string]string{"/data/dir/a": "host a"}},
		{name: "dst symlink out", src: "a", dst: "/evil", want: map[string]string{"/etc/a": "host a"}},
		{name: "dst symlink to file", src: "a", dst: "/data/link", want: map[string]string{"/data/file": "host a", "/data/link": "@/data/file"}},
		{name: "dst dangling symlink", src: "a", dst: "/dangling", err: errdefs.ErrNotFound}, // /nowhere is missing
		{name: "missing source", src: "nope", dst: "/data", err: errdefs.ErrNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			src := hostTree(t, f)
			err := copyIn(t, f.rootfs, filepath.Join(src, tc.src)+trailing(tc.src), tc.dst, tc.follow)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("copy: %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			checkTree(t, f.rootfs, tc.want)
			f.checkHost(t)
		})
	}
}

// The same, container to host.
func TestCopyOut(t *testing.T) {
	testenv.RequiresRoot(t)
	for _, tc := range []struct {
		name, src, dst string
		follow         bool
		want           map[string]string // host path below out/ → content
		err            error
	}{
		{name: "file into dir", src: "/data/file", dst: "", want: map[string]string{"file": "file"}},
		{name: "file to new name", src: "/data/file", dst: "new", want: map[string]string{"new": "file"}},
		{name: "file over file", src: "/data/file", dst: "a", want: map[string]string{"a": "file"}},
		{name: "file to missing dir/", src: "/data/file", dst: "nodir/", err: errdefs.ErrNotFound},
		{name: "dir into dir", src: "/data/dir", dst: "", want: map[string]string{"dir/a": "a", "dir/sub/b": "b"}},
		{name: "dir to new name", src: "/data/dir", dst: "e", want: map[string]string{"e/a": "a", "e/sub/b": "b"}},
		{name: "dir contents into dir", src: "/data/dir/.", dst: "d", want: map[string]string{"d/a": "a", "d/x": "host x", "d/sub/b": "b", "d/sub/y": "host y"}},
		{name: "dir contents to new name", src: "/data/dir/.", dst: "e", want: map[string]string{"e/a": "a", "e/sub/b": "b"}},
		{name: "dir over file", src: "/data/dir", dst: "a", err: errdefs.ErrFailedPrecondition},
		{name: "symlink itself", src: "/evil", dst: "", want: map[string]string{"evil": "@/etc"}},
		{name: "-L symlink out", src: "/evil", dst: "", follow: true, want: map[string]string{"evil/passwd": "container passwd"}},
		{name: "through symlink out", src: "/evil/passwd", dst: "p", want: map[string]string{"p": "container passwd"}},
		{name: "-L file", src: "/data/link", dst: "", follow: true, want: map[string]string{"link": "file"}},
		{name: "dst symlink to dir", src: "/data/file", dst: "ld", want: map[string]string{"d/file": "file"}},
		{name: "dst symlink to file", src: "/data/file", dst: "la", want: map[string]string{"a": "file", "la": "@a"}},
		{name: "missing source", src: "/nope", dst: "", err: errdefs.ErrNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			dst := hostTree(t, f)
			err := copyOut(t, f.rootfs, tc.src, filepath.Join(dst, tc.dst)+trailing(tc.dst), tc.follow)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("copy: %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			checkTree(t, dst, tc.want)
			f.checkHost(t)
		})
	}
}

// A tar that the container controls cannot write outside the destination
// on the host, nor make device nodes there, and what it makes is the
// caller's.
func TestExtractToHostile(t *testing.T) {
	testenv.RequiresRoot(t)
	f := newFixture(t)
	dst := filepath.Join(f.tmp, "out")
	mkdirs(t, dst)
	for name, data := range map[string][]byte{
		"dotdot":   tarOf(t, dirEnt("d"), reg("d/../../x", "bad")),
		"absolute": tarOf(t, dirEnt("d"), reg("/x", "bad")),
		"device":   tarOf(t, dirEnt("d"), entry{name: "d/sda", typ: '4', major: 8}),
		"hardlink": tarOf(t, dirEnt("d"), entry{name: "d/h", link: "../host/secret", typ: '1'}),
	} {
		err := ExtractTo(context.Background(), dst, bytes.NewReader(data))
		if !errdefs.IsInvalidArgument(err) {
			t.Errorf("%s: %v, want invalid argument", name, err)
		}
	}
	data := tarOf(t, dirEnt("d"), entry{name: "d/esc", link: "../../host", typ: '2'}, reg("d/esc/pwned", "p"),
		entry{name: "d/f", body: "owned", typ: '0', uid: 1234, gid: 1234})
	must(t, ExtractTo(context.Background(), dst, bytes.NewReader(data)))
	if readFile(t, dst+"/host/pwned") != "p" {
		t.Error("an entry through the tar's own symlink is not inside the destination")
	}
	if st := lstat(t, dst+"/d/f"); int(st.Uid) != os.Geteuid() || int(st.Gid) != os.Getegid() {
		t.Errorf("extracted file owned by %d:%d, not the caller", st.Uid, st.Gid)
	}
	if err := ExtractTo(context.Background(), dst, bytes.NewReader(nil)); !errdefs.IsInvalidArgument(err) {
		t.Errorf("empty stream: %v", err)
	}
	f.checkHost(t)
	var st unix.Stat_t
	if unix.Lstat(f.tmp+"/x", &st) == nil {
		t.Error("x made beside the destination")
	}
}

// trailing keeps a test path's trailing "/" or "/." that filepath.Join drops.
func trailing(p string) string {
	switch {
	case endsInDot(p):
		return "/."
	case len(p) > 0 && p[len(p)-1] == '/':
		return "/"
	}
	return ""
}

// checkTree checks files ("@target" for a symlink, "" for a directory)
// below root.
func checkTree(t *testing.T, root string, want map[string]string) {
	t.Helper()
	for p, body := range want {
		full := filepath.Join(root, p)
		st := lstat(t, full)
		switch {
		case body == "":
			if st.Mode&unix.S_IFMT != unix.S_IFDIR {
				t.Errorf("%s: not a directory", p)
			}
		case body[0] == '@':
			if target, err := os.Readlink(full); err != nil || target != body[1:] {
				t.Errorf("%s: symlink to %q (%v), want %q", p, target, err, body[1:])
			}
		default:
			if got := readFile(t, full); got != body {
				t.Errorf("%s = %q, want %q", p, got, body)
			}
		}
	}
}
