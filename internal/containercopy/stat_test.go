package containercopy

import (
	"errors"
	"os"
	"testing"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/testenv"
)

func TestStat(t *testing.T) {
	testenv.RequiresRoot(t)
	f := newFixture(t)
	for _, tc := range []struct {
		path, name, link string
		mode             os.FileMode
		size             int64
	}{
		{path: "/data/file", name: "file", size: 4},
		{path: "data/file", name: "file", size: 4}, // relative: from the container's "/"
		{path: "/data/dir", name: "dir", mode: os.ModeDir},
		{path: "/data/dir/", name: "dir", mode: os.ModeDir},
		{path: "/data/dir/.", name: ".", mode: os.ModeDir},
		{path: "/", name: "/", mode: os.ModeDir},
		{path: "/data/link", name: "link", mode: os.ModeSymlink, link: "/data/file"},
		{path: "/data/dirlink", name: "dirlink", mode: os.ModeSymlink, link: "/data/dir"},
		{path: "/data/dirlink/", name: "dirlink", mode: os.ModeDir}, // a trailing "/" follows
		{path: "/evil", name: "evil", mode: os.ModeSymlink, link: "/etc"},
		{path: "/up", name: "up", mode: os.ModeSymlink, link: "/"},
		{path: "/data/updir", name: "updir", mode: os.ModeSymlink, link: "/"},
		{path: "/esc", name: "esc", mode: os.ModeSymlink, link: "/host"},
		{path: "/dangling", name: "dangling", mode: os.ModeSymlink, link: "/nowhere/x"},
		{path: "/evil/passwd", name: "passwd", size: int64(len("container passwd"))},
		{path: "/up/data/../etc/passwd", name: "passwd", size: int64(len("container passwd"))},
		{path: "/data/fifo", name: "fifo", mode: os.ModeNamedPipe},
	} {
		st, err := Stat(f.rootfs, tc.path)
		if err != nil {
			t.Errorf("Stat(%q): %v", tc.path, err)
			continue
		}
		if st.Name != tc.name || st.Mode.Type() != tc.mode || st.LinkTarget != tc.link || (tc.size != 0 && st.Size != tc.size) {
			t.Errorf("Stat(%q) = %+v, want name %q type %v link %q size %d", tc.path, st, tc.name, tc.mode, tc.link, tc.size)
		}
	}
	_, err := Stat(f.rootfs, "/nope/x")
	var nf *FileNotFoundError
	if !errors.As(err, &nf) || !errdefs.IsNotFound(err) || err.Error() != "Could not find the file /nope/x in container" {
		t.Errorf("Stat of a missing path: %v", err)
	}
	if _, err := Stat(f.rootfs, "/data/file/"); !errdefs.IsInvalidArgument(err) {
		t.Errorf("Stat of a file with a trailing slash: %v, want invalid argument", err)
	}
	if _, err := Stat(f.rootfs, "/dangling/"); !errdefs.IsNotFound(err) {
		t.Errorf("Stat through a dangling symlink: %v, want not found", err)
	}
	f.checkHost(t)
}
