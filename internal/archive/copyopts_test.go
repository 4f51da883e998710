package archive

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/testenv"
)

func TestApplyNoWhiteouts(t *testing.T) {
	testenv.RequiresRoot(t)
	s := newSandbox(t)
	apply(t, s.root, layer(t, file("victim", "v"), dir("d"), file("d/x", "x")), ApplyOptions{})
	apply(t, s.root, layer(t, file(".wh.victim", "literal"), file("d/.wh..wh..opq", "also literal")), ApplyOptions{NoWhiteouts: true})
	for _, p := range []string{"victim", ".wh.victim", "d/x", "d/.wh..wh..opq"} {
		if _, err := os.Lstat(filepath.Join(s.root, p)); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
	if b, err := os.ReadFile(filepath.Join(s.root, ".wh.victim")); err != nil || string(b) != "literal" {
		t.Errorf(".wh.victim = %q, %v", b, err)
	}
}

func TestApplyNoOverwriteDirNonDir(t *testing.T) {
	testenv.RequiresRoot(t)
	opts := ApplyOptions{NoOverwriteDirNonDir: true}
	for name, l := range map[string][]byte{
		"file over dir":      layer(t, file("d", "f")),
		"symlink over dir":   layer(t, symlink("d", "/")),
		"dir over file":      layer(t, dir("f")),
		"dir over symlink":   layer(t, dir("l")),
		"hardlink over dir":  layer(t, hardlink("d", "f")),
		"fifo over dir":      layer(t, ent{name: "d", typ: '6'}),
		"dir over dangling":  layer(t, dir("dangling")),
		"file in file place": layer(t, dir("f/x")),
	} {
		t.Run(name, func(t *testing.T) {
			s := newSandbox(t)
			apply(t, s.root, layer(t, dir("d"), file("d/keep", "k"), file("f", "f"), symlink("l", "d"), symlink("dangling", "nowhere")), ApplyOptions{})
			_, err := Apply(context.Background(), s.root, bytes.NewReader(l), opts)
			if err == nil {
				t.Fatal("Apply succeeded")
			}
			if name != "file in file place" && !errors.Is(err, errdefs.ErrFailedPrecondition) {
				t.Errorf("error %v, want ErrFailedPrecondition", err)
			}
			if st := lstat(t, filepath.Join(s.root, "d/keep")); st.Mode&unix.S_IFMT != unix.S_IFREG {
				t.Errorf("d/keep is gone")
			}
			if st := lstat(t, filepath.Join(s.root, "f")); st.Mode&unix.S_IFMT != unix.S_IFREG {
				t.Errorf("f replaced")
			}
			s.checkHost(t)
		})
	}
	// Same kinds replace each other as before, and directories merge.
	s := newSandbox(t)
	apply(t, s.root, layer(t, dir("d"), file("d/keep", "k"), file("f", "f"), symlink("l", "d")), ApplyOptions{})
	apply(t, s.root, layer(t, dir("d"), file("d/new", "n"), file("f", "g"), symlink("f2", "x"), file("l", "now a file")), opts)
	if b, _ := os.ReadFile(filepath.Join(s.root, "f")); string(b) != "g" {
		t.Errorf("f = %q, want g", b)
	}
	for _, p := range []string{"d/keep", "d/new", "f2"} {
		if _, err := os.Lstat(filepath.Join(s.root, p)); err != nil {
			t.Error(err)
		}
	}
	if st := lstat(t, filepath.Join(s.root, "l")); st.Mode&unix.S_IFMT != unix.S_IFREG {
		t.Errorf("symlink l not replaced by a file")
	}
}
