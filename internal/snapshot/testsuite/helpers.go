package testsuite

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/berth-project/berth/internal/linux/mount"
)

// withMounted mounts ms on a fresh directory with mount.All, runs fn on it
// and unmounts it, as an engine mounts a container's rootfs.
func withMounted(t *testing.T, ms []mount.Mount, fn func(dir string)) {
	t.Helper()
	target := t.TempDir()
	if err := mount.All(ms, target); err != nil {
		t.Fatalf("mount %+v: %v", ms, err)
	}
	defer func() {
		if err := mount.Unmount(target); err != nil {
			t.Errorf("unmount %s: %v", target, err)
		}
	}()
	fn(target)
}

// withDetached makes the single mount ms[0] detached, as an unpacker does,
// and runs fn on the path of its root (/proc/self/fd/N).
func withDetached(t *testing.T, ms []mount.Mount, fn func(dir string)) {
	t.Helper()
	if len(ms) != 1 {
		t.Fatalf("want one mount to apply a layer to, got %+v", ms)
	}
	f, err := mount.Detached(ms[0])
	if err != nil {
		t.Fatalf("detached mount %+v: %v", ms[0], err)
	}
	defer f.Close()
	fn("/proc/self/fd/" + strconv.Itoa(int(f.Fd())))
}

// checkNoMounts fails t if anything is mounted beneath the parent of root
// (the case's temporary directories).
func checkNoMounts(t *testing.T, root string) {
	t.Helper()
	infos, err := mount.Mounts()
	if err != nil {
		t.Error(err)
		return
	}
	under := filepath.Dir(root) + "/"
	for _, m := range infos {
		if strings.HasPrefix(m.Point+"/", under) {
			t.Errorf("mount left behind: %+v", m)
			_ = mount.Unmount(m.Point)
		}
	}
}

// listTree lists every path beneath root (with a trailing / for
// directories), sorted, leaving out nothing.
func listTree(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			rel += "/"
		}
		out = append(out, rel)
		return nil
	})
	if err != nil {
		t.Fatalf("list %s: %v", root, err)
	}
	slices.Sort(out)
	return out
}

// checkTreeIs fails t unless root's tree is want (a baseline from listTree).
func checkTreeIs(t *testing.T, root string, want []string) {
	t.Helper()
	got := listTree(t, root)
	if !slices.Equal(got, want) {
		t.Errorf("tree of %s:\n got  %q\n want %q", root, got, want)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	must(t, os.WriteFile(path, []byte(content), 0o644))
}

// checkFile fails t unless path is a regular file holding want.
func checkFile(t *testing.T, path, want string) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Errorf("read %s: %v", path, err)
		return
	}
	if string(got) != want {
		t.Errorf("%s holds %q, want %q", path, got, want)
	}
}

// checkAbsent fails t unless nothing is at path.
func checkAbsent(t *testing.T, path string) {
	t.Helper()
	if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s: want it absent, lstat says %v", path, err)
	}
}

// checkNames fails t unless the directory holds exactly names.
func checkNames(t *testing.T, dir string, names ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Errorf("read %s: %v", dir, err)
		return
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	slices.Sort(names)
	if !slices.Equal(got, names) {
		t.Errorf("%s holds %q, want %q", dir, got, names)
	}
}

// checkClass fails t unless err is of the class want.
func checkClass(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s: got error %v, want one of class %q", what, err, want)
	}
}
