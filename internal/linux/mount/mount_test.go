package mount

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/berth-project/berth/internal/linux/ns"
	"github.com/berth-project/berth/internal/testenv"
	"golang.org/x/sys/unix"
)

func TestDetachedOverlay(t *testing.T) {
	testenv.RequiresRoot(t)
	dir := t.TempDir()
	for _, d := range []string{"lower", "upper", "work"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "lower", "a"), []byte("lower"), 0o644); err != nil {
		t.Fatal(err)
	}
	m := Mount{Type: "overlay", Source: "overlay", Options: []string{
		"lowerdir=" + filepath.Join(dir, "lower"),
		"upperdir=" + filepath.Join(dir, "upper"),
		"workdir=" + filepath.Join(dir, "work"),
	}}
	f, err := Detached(m)
	if err != nil {
		t.Fatal(err)
	}
	root := "/proc/self/fd/" + strconv.Itoa(int(f.Fd()))
	got, err := os.ReadFile(filepath.Join(root, "a"))
	if err != nil || string(got) != "lower" {
		t.Fatalf("read a through the detached mount: %q, %v", got, err)
	}
	if err := os.WriteFile(filepath.Join(root, "b"), []byte("new"), 0o644); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if _, err := os.Stat(filepath.Join(dir, "upper", "b")); err != nil {
		t.Fatalf("write did not reach upperdir: %v", err)
	}
	mounts, err := Mounts()
	if err != nil {
		t.Fatal(err)
	}
	for _, mi := range mounts {
		if mi.Point == dir || filepath.Dir(mi.Point) == dir {
			t.Fatalf("a detached mount is attached: %+v", mi)
		}
	}
}

func TestAllAndUnmountReadOnlyBind(t *testing.T) {
	testenv.RequiresRoot(t)
	src, dst := t.TempDir(), t.TempDir()
	if err := All([]Mount{{Type: "bind", Source: src, Options: []string{"rbind", "ro"}}}, dst); err != nil {
		t.Fatal(err)
	}
	err := os.WriteFile(filepath.Join(dst, "x"), nil, 0o644)
	if Unmount(dst) != nil || err == nil {
		t.Fatalf("write to a read-only bind succeeded or unmount failed: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dst, "x"), nil, 0o644); err != nil {
		t.Fatalf("after Unmount the target is still read-only: %v", err)
	}
	if _, err := os.Stat(filepath.Join(src, "x")); err == nil {
		t.Fatal("the write after Unmount reached the source")
	}
}

// longOverlay makes n lower layers with long paths, layer i holding file
// "i", and returns an overlay over them with an upper dir.
func longOverlay(t *testing.T, n int) Mount {
	dir := filepath.Join(t.TempDir(), strings.Repeat("long-directory-name-", 3))
	var lowers []string
	for i := range n {
		l := filepath.Join(dir, "layer-"+strconv.Itoa(i), "fs")
		if err := os.MkdirAll(l, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(l, strconv.Itoa(i)), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		lowers = append([]string{l}, lowers...)
	}
	for _, d := range []string{"upper", "work"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return Mount{Type: "overlay", Source: "overlay", Options: []string{
		"lowerdir=" + strings.Join(lowers, ":"),
		"upperdir=" + filepath.Join(dir, "upper"), "workdir=" + filepath.Join(dir, "work"),
	}}
}

func checkLayers(t *testing.T, f *os.File, n int) {
	t.Helper()
	root := "/proc/self/fd/" + strconv.Itoa(int(f.Fd()))
	for i := range n {
		if _, err := os.Stat(filepath.Join(root, strconv.Itoa(i))); err != nil {
			t.Fatalf("layer %d not seen through the overlay: %v", i, err)
		}
	}
}

func TestDetachedLongLowerdir(t *testing.T) {
	testenv.RequiresRoot(t)
	m := longOverlay(t, 25)
	if !longLowerdir(ParseOptions(m.Options).Data) {
		t.Fatal("a 25-layer lowerdir is not long")
	}
	f, err := Detached(m)
	if err != nil {
		t.Fatal(err)
	}
	checkLayers(t, f, 25)
	f.Close()

	// The fallback for kernels without "lowerdir+", called directly (on
	// other dirs: a closed detached mount is released asynchronously, and
	// overlayfs refuses an upper dir still in use).
	m = longOverlay(t, 25)
	err = ns.UnshareAndRun(unix.CLONE_NEWNS|unix.CLONE_FS, func() (err error) {
		f, err = mountCloned(m, ParseOptions(m.Options), 0)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	checkLayers(t, f, 25)
	f.Close()
	// Other processes mount and unmount meanwhile: look for ours only,
	// the overlays on /tmp (the fallback's mount point) or under the test's
	// directories.
	after, _ := Mounts()
	for _, mi := range after {
		if mi.Point == os.TempDir() || strings.HasPrefix(mi.Point, filepath.Dir(t.TempDir())) {
			t.Fatalf("a mount stayed attached: %+v", mi)
		}
	}
}

func TestSplitLowerdir(t *testing.T) {
	got := splitLowerdir(`/a:/b\:c:/d`)
	if len(got) != 3 || got[0] != "/a" || got[1] != "/b:c" || got[2] != "/d" {
		t.Fatalf("splitLowerdir = %q", got)
	}
}
