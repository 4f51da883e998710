package pathrs

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// TestRacingSymlink swaps a path component between a real directory and a
// symlink to "/" as fast as it can while MkdirAll and Open run through it:
// whatever they return must be inside the root.
func TestRacingSymlink(t *testing.T) {
	root := evilTree(t, t.TempDir())
	r := openTestRoot(t, root)
	if err := os.MkdirAll(filepath.Join(root, "p/berth-race"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/", filepath.Join(root, "q")); err != nil {
		t.Fatal(err)
	}

	const flips = 200000
	done := make(chan struct{})
	flipped := make(chan int)
	go func() {
		n := 0
		defer func() { flipped <- n }()
		for ; n < flips; n++ {
			select {
			case <-done:
				return
			default:
			}
			if err := unix.Renameat2(unix.AT_FDCWD, filepath.Join(root, "p"), unix.AT_FDCWD, filepath.Join(root, "q"), unix.RENAME_EXCHANGE); err != nil {
				t.Error(err)
				return
			}
		}
	}()

	paths := []string{
		"p/berth-race", "p/berth-race/new/deeper", "p/../p/berth-race", "p/etc", "p/tmp",
		"p/berth-race/../../../..", "in/../p/berth-race", "/p/berth-race/x",
	}
	var opened, made int
	for i := 0; i < 2000; i++ {
		p := paths[i%len(paths)]
		if f, err := r.Open(p, unix.O_PATH); err == nil {
			assertInside(t, root, f, "Open("+p+")")
			f.Close()
			opened++
		}
		if f, err := r.MkdirAll(p, 0o755); err == nil {
			assertInside(t, root, f, "MkdirAll("+p+")")
			f.Close()
			made++
		}
		if f, err := r.MkFile(p+"-file", 0o644); err == nil {
			assertInside(t, root, f, "MkFile("+p+"-file)")
			f.Close()
		}
	}
	close(done)
	n := <-flipped
	t.Logf("%d flips, %d opens and %d mkdirs succeeded", n, opened, made)
	if opened == 0 || made == 0 {
		t.Fatalf("nothing succeeded (%d opens, %d mkdirs): the race exercised nothing", opened, made)
	}
	for _, p := range []string{"/berth-race", "/p", "/new"} {
		if _, err := os.Lstat(p); err == nil {
			t.Fatalf("%s appeared on the host", p)
		}
	}
}
