package containercopy

import (
	"archive/tar"
	"context"
	"errors"
	"io"
	"os"
	"reflect"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/testenv"
)

func TestOut(t *testing.T) {
	testenv.RequiresRoot(t)
	f := newFixture(t)
	must(t, os.Chown(f.rootfs+"/data/dir/a", 1234, 5678))
	for _, tc := range []struct {
		path   string
		follow bool
		want   []string
	}{
		{path: "/data/file", want: []string{"file"}},
		{path: "data/dir", want: []string{"dir/", "dir/a", "dir/sub/", "dir/sub/b"}},
		{path: "/data/dir/", want: []string{"dir/", "dir/a", "dir/sub/", "dir/sub/b"}},
		{path: "/data/dir/.", want: []string{"./", "./a", "./sub/", "./sub/b"}},
		{path: "/data/dirlink", want: []string{"dirlink"}},                                                              // the symlink itself
		{path: "/data/dirlink", follow: true, want: []string{"dirlink/", "dirlink/a", "dirlink/sub/", "dirlink/sub/b"}}, // -L: renamed
		{path: "/data/dirlink/", want: []string{"dirlink/", "dirlink/a", "dirlink/sub/", "dirlink/sub/b"}},
		{path: "/data/link", follow: true, want: []string{"link"}},
		// Symlinks that point out of the rootfs on the host lead inside it.
		{path: "/evil", follow: true, want: []string{"evil/", "evil/passwd"}},
		{path: "/evil/.", want: []string{"./", "./passwd"}},
		{path: "/up/etc/passwd", want: []string{"passwd"}},
		{path: "/data/updir/etc/", want: []string{"etc/", "etc/passwd"}},
		{path: "/esc", follow: true, want: []string{"esc/", "esc/secret"}},
	} {
		data, err := out(t, f.rootfs, tc.path, OutOptions{FollowLink: tc.follow})
		if err != nil {
			t.Errorf("Out(%q, -L=%v): %v", tc.path, tc.follow, err)
			continue
		}
		ents := listTar(t, data)
		if got := names(ents); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Out(%q, -L=%v) = %q, want %q", tc.path, tc.follow, got, tc.want)
		}
		for _, e := range ents {
			switch e.name {
			case "evil/passwd", "./passwd", "passwd":
				if e.body != "container passwd" {
					t.Errorf("Out(%q): %s reads %q, not the container's", tc.path, e.name, e.body)
				}
			case "esc/secret":
				if e.body != "container's own host/secret" {
					t.Errorf("Out(%q): %s reads %q, not the container's", tc.path, e.name, e.body)
				}
			case "link":
				if e.typ != tar.TypeReg || e.body != "file" {
					t.Errorf("Out(%q, -L): %+v, want the file's content", tc.path, e)
				}
			case "dirlink":
				if e.typ != tar.TypeSymlink || e.link != "dir" {
					t.Errorf("Out(%q): %+v, want the symlink", tc.path, e)
				}
			case "dir/a":
				if e.uid != 1234 || e.gid != 5678 || e.body != "a" || e.mode != 0o644 {
					t.Errorf("Out(%q): %+v, want a, 1234:5678, 0644", tc.path, e)
				}
			}
		}
	}
	f.checkHost(t)
}

func TestOutRoot(t *testing.T) {
	testenv.RequiresRoot(t)
	f := newFixture(t)
	data, err := out(t, f.rootfs, "/", OutOptions{})
	must(t, err)
	ents := listTar(t, data)
	if ents[0].name != "./" {
		t.Errorf("first entry %q, want ./", ents[0].name)
	}
	for _, want := range []string{"./etc/passwd", "./evil", "./data/dir/sub/b"} {
		if _, ok := find(ents, want); !ok {
			t.Errorf("no %s in %q", want, names(ents))
		}
	}
}

func TestOutSpecialFiles(t *testing.T) {
	testenv.RequiresRoot(t)
	f := newFixture(t)
	must(t, unix.Mknod(f.rootfs+"/data/null", unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))))
	must(t, os.Chmod(f.rootfs+"/data/null", 0o666)) // past the umask
	must(t, unix.Mknod(f.rootfs+"/data/blk", unix.S_IFBLK|0o600, int(unix.Mkdev(7, 200))))
	sock, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	must(t, err)
	defer unix.Close(sock)
	must(t, unix.Bind(sock, &unix.SockaddrUnix{Name: f.rootfs + "/data/sock"}))
	data, err := out(t, f.rootfs, "/data", OutOptions{})
	must(t, err)
	ents := listTar(t, data)
	h1, _ := find(ents, "data/h1")
	h2, _ := find(ents, "data/h2")
	if h1.typ != tar.TypeReg || h1.body != "linked" || h2.typ != tar.TypeLink || h2.link != "data/h1" {
		t.Errorf("hard links: %+v %+v", h1, h2)
	}
	if e, _ := find(ents, "data/fifo"); e.typ != tar.TypeFifo {
		t.Errorf("fifo: %+v", e)
	}
	if e, _ := find(ents, "data/null"); e.typ != tar.TypeChar || e.major != 1 || e.minor != 3 || e.mode != 0o666 {
		t.Errorf("char device: %+v", e)
	}
	if e, _ := find(ents, "data/blk"); e.typ != tar.TypeBlock || e.major != 7 || e.minor != 200 {
		t.Errorf("block device: %+v", e)
	}
	if _, ok := find(ents, "data/sock"); ok {
		t.Error("a socket was written")
	}
}

func TestOutErrors(t *testing.T) {
	testenv.RequiresRoot(t)
	f := newFixture(t)
	for _, p := range []string{"/nope", "/data/nope/x", "/evil/shadow"} {
		_, err := out(t, f.rootfs, p, OutOptions{})
		if !errdefs.IsNotFound(err) || err.Error() != "Could not find the file "+p+" in container" {
			t.Errorf("Out(%q): %v, want docker's not found", p, err)
		}
	}
	if _, err := out(t, f.rootfs, "/dangling", OutOptions{FollowLink: true}); !errdefs.IsNotFound(err) {
		t.Errorf("Out of a dangling symlink with -L: %v, want not found", err)
	}
	if data, err := out(t, f.rootfs, "/dangling", OutOptions{}); err != nil || listTar(t, data)[0].link != "/nowhere/x" {
		t.Errorf("Out of a dangling symlink: %v", err)
	}
	if _, err := out(t, f.rootfs, "/data/file/.", OutOptions{}); !errdefs.IsInvalidArgument(err) {
		t.Errorf("Out of file/.: %v, want invalid argument", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Out(ctx, f.rootfs, "/data", OutOptions{}, io.Discard); !errors.Is(err, context.Canceled) {
		t.Errorf("Out canceled: %v", err)
	}
}
