package testsuite

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

var fixedTime = time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)

// The three layers of the chain test, applied through the mounts of an
// active snapshot as an unpacker would (writes, deletes, renames).

func layer1(t *testing.T, dir string) {
	writeFile(t, filepath.Join(dir, "a"), "a1")
	must(t, unix.Setxattr(filepath.Join(dir, "a"), "user.berth", []byte("kept"), 0))
	must(t, os.Mkdir(filepath.Join(dir, "dir"), 0o755))
	writeFile(t, filepath.Join(dir, "dir", "x"), "x1")
	must(t, os.Chtimes(filepath.Join(dir, "dir", "x"), fixedTime, fixedTime))
	writeFile(t, filepath.Join(dir, "dir", "y"), "y1")
	writeFile(t, filepath.Join(dir, "keep"), "k")
	writeFile(t, filepath.Join(dir, "del"), "d")
	must(t, os.Mkdir(filepath.Join(dir, "opq"), 0o755))
	writeFile(t, filepath.Join(dir, "opq", "old"), "o")
	must(t, os.Symlink("a", filepath.Join(dir, "link")))
	writeFile(t, filepath.Join(dir, "hl1"), "hard")
	must(t, os.Link(filepath.Join(dir, "hl1"), filepath.Join(dir, "hl2")))
	must(t, os.Mkdir(filepath.Join(dir, "secret"), 0o750))
	must(t, os.Chown(filepath.Join(dir, "secret"), 1000, 1000))
	writeFile(t, filepath.Join(dir, "secret", "f"), "s")
	must(t, os.Chown(filepath.Join(dir, "secret", "f"), 1000, 1001))
	must(t, os.Chmod(filepath.Join(dir, "secret", "f"), 0o640))
	writeFile(t, filepath.Join(dir, "suid"), "#!/bin/sh\n")
	must(t, unix.Chmod(filepath.Join(dir, "suid"), 0o4755))
	must(t, unix.Mknod(filepath.Join(dir, "null"), unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))))
	must(t, unix.Chmod(filepath.Join(dir, "null"), 0o666)) // past the umask
	must(t, unix.Mkfifo(filepath.Join(dir, "fifo"), 0o600))
}

func layer2(t *testing.T, dir string) {
	writeFile(t, filepath.Join(dir, "a"), "a2")
	must(t, os.Remove(filepath.Join(dir, "del")))
	must(t, os.Remove(filepath.Join(dir, "dir", "y")))
	writeFile(t, filepath.Join(dir, "dir", "z"), "z2")
	must(t, os.RemoveAll(filepath.Join(dir, "opq")))
	must(t, os.Mkdir(filepath.Join(dir, "opq"), 0o755))
	writeFile(t, filepath.Join(dir, "opq", "new"), "n")
	writeFile(t, filepath.Join(dir, "b"), "b2")
}

func layer3(t *testing.T, dir string) {
	writeFile(t, filepath.Join(dir, "b"), "b3")
	writeFile(t, filepath.Join(dir, "c"), "c3")
	must(t, os.Remove(filepath.Join(dir, "link")))
	must(t, os.Rename(filepath.Join(dir, "keep"), filepath.Join(dir, "kept")))
	must(t, os.Chmod(filepath.Join(dir, "secret"), 0o700))
}

// buildChain commits layers 1-3 as l1, l2, l3 and returns nothing; every
// layer is written through mount.All of a fresh active snapshot.
func buildChain(t *testing.T, e *env) {
	parent := ""
	for i, apply := range []func(*testing.T, string){layer1, layer2, layer3} {
		key, name := "extract-"+string(rune('1'+i)), "l"+string(rune('1'+i))
		ms, err := e.sn.Prepare(e.ctx, key, parent, nil)
		must(t, err)
		withMounted(t, ms, func(dir string) { apply(t, dir) })
		must(t, e.sn.Commit(e.ctx, name, key, nil))
		parent = name
	}
}

func checkLayer1(t *testing.T, dir string) {
	checkNames(t, dir, "a", "dir", "keep", "del", "opq", "link", "hl1", "hl2", "secret", "suid", "null", "fifo")
	checkFile(t, filepath.Join(dir, "a"), "a1")
	checkFile(t, filepath.Join(dir, "del"), "d")
	checkNames(t, filepath.Join(dir, "dir"), "x", "y")
	checkNames(t, filepath.Join(dir, "opq"), "old")
	if target, err := os.Readlink(filepath.Join(dir, "link")); err != nil || target != "a" {
		t.Errorf("link: %q, %v", target, err)
	}
}

func checkLayer2(t *testing.T, dir string) {
	checkNames(t, dir, "a", "b", "dir", "keep", "opq", "link", "hl1", "hl2", "secret", "suid", "null", "fifo")
	checkFile(t, filepath.Join(dir, "a"), "a2")
	checkFile(t, filepath.Join(dir, "b"), "b2")
	checkNames(t, filepath.Join(dir, "opq"), "new")
	checkNames(t, filepath.Join(dir, "dir"), "x", "z")
}

// checkLayer3 checks the top of the chain, with everything a copy or an
// overlay must keep.
func checkLayer3(t *testing.T, dir string) {
	t.Helper()
	checkNames(t, dir, "a", "b", "c", "dir", "kept", "opq", "hl1", "hl2", "secret", "suid", "null", "fifo")
	checkFile(t, filepath.Join(dir, "a"), "a2")
	checkFile(t, filepath.Join(dir, "b"), "b3")
	checkFile(t, filepath.Join(dir, "c"), "c3")
	checkFile(t, filepath.Join(dir, "kept"), "k")
	checkFile(t, filepath.Join(dir, "dir", "x"), "x1")
	checkFile(t, filepath.Join(dir, "dir", "z"), "z2")
	checkAbsent(t, filepath.Join(dir, "dir", "y"))
	checkAbsent(t, filepath.Join(dir, "del"))
	checkAbsent(t, filepath.Join(dir, "link"))
	checkAbsent(t, filepath.Join(dir, "keep"))
	checkNames(t, filepath.Join(dir, "opq"), "new")
	checkFile(t, filepath.Join(dir, "opq", "new"), "n")

	buf := make([]byte, 16)
	if n, err := unix.Getxattr(filepath.Join(dir, "a"), "user.berth", buf); err != nil || string(buf[:n]) != "kept" {
		t.Errorf("xattr user.berth of a: %q, %v", buf[:max(n, 0)], err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "dir", "x")); err != nil || !fi.ModTime().Equal(fixedTime) {
		t.Errorf("mtime of dir/x: %v, want %v", fi, fixedTime)
	}
	h1, err1 := os.Stat(filepath.Join(dir, "hl1"))
	h2, err2 := os.Stat(filepath.Join(dir, "hl2"))
	if err1 != nil || err2 != nil || !os.SameFile(h1, h2) {
		t.Errorf("hl1 and hl2 are not one file: %v %v", err1, err2)
	} else {
		checkFile(t, filepath.Join(dir, "hl2"), "hard")
	}
	checkStat(t, filepath.Join(dir, "secret"), unix.S_IFDIR|0o700, 1000, 1000)
	checkStat(t, filepath.Join(dir, "secret", "f"), unix.S_IFREG|0o640, 1000, 1001)
	checkStat(t, filepath.Join(dir, "suid"), unix.S_IFREG|0o4755, 0, 0)
	checkStat(t, filepath.Join(dir, "fifo"), unix.S_IFIFO|0o600, 0, 0)
	checkStat(t, filepath.Join(dir, "null"), unix.S_IFCHR|0o666, 0, 0)
	var st unix.Stat_t
	if err := unix.Lstat(filepath.Join(dir, "null"), &st); err == nil && st.Rdev != unix.Mkdev(1, 3) {
		t.Errorf("null: device %d:%d, want 1:3", unix.Major(st.Rdev), unix.Minor(st.Rdev))
	}
}

func checkStat(t *testing.T, path string, mode uint32, uid, gid uint32) {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Lstat(path, &st); err != nil {
		t.Errorf("lstat %s: %v", path, err)
		return
	}
	if st.Mode != mode || st.Uid != uid || st.Gid != gid {
		t.Errorf("%s: mode %#o owner %d:%d, want mode %#o owner %d:%d", path, st.Mode, st.Uid, st.Gid, mode, uid, gid)
	}
}

// checkReadOnly fails t unless writing beneath dir fails with EROFS.
func checkReadOnly(t *testing.T, dir string) {
	t.Helper()
	err := os.WriteFile(filepath.Join(dir, "write-attempt"), nil, 0o644)
	if !errors.Is(err, syscall.EROFS) {
		t.Errorf("write into a view: %v, want EROFS", err)
	}
}

func testLayerChain(t *testing.T, e *env) {
	buildChain(t, e)

	// Every layer as a view: each sees exactly its own state.
	for name, check := range map[string]func(*testing.T, string){"l1": checkLayer1, "l2": checkLayer2, "l3": checkLayer3} {
		ms, err := e.sn.View(e.ctx, "view-"+name, name, nil)
		must(t, err)
		withMounted(t, ms, func(dir string) {
			check(t, dir)
			checkReadOnly(t, dir)
		})
	}

	// A container on top: sees l3, writes go to it alone.
	ms, err := e.sn.Prepare(e.ctx, "ctr", "l3", nil)
	must(t, err)
	withMounted(t, ms, func(dir string) {
		checkLayer3(t, dir)
		writeFile(t, filepath.Join(dir, "c"), "container")
		must(t, os.Remove(filepath.Join(dir, "a")))
		writeFile(t, filepath.Join(dir, "dir", "x"), "changed")
	})
	again, err := e.sn.Mounts(e.ctx, "ctr")
	must(t, err)
	withMounted(t, again, func(dir string) {
		checkFile(t, filepath.Join(dir, "c"), "container")
		checkAbsent(t, filepath.Join(dir, "a"))
	})
	ms, err = e.sn.Mounts(e.ctx, "view-l3")
	must(t, err)
	withMounted(t, ms, func(dir string) { checkLayer3(t, dir) })
}

// testDetachedApply writes layers through mount.Detached, as the unpacker
// does, and reads the result through mount.All.
func testDetachedApply(t *testing.T, e *env) {
	parent := ""
	for i, apply := range []func(*testing.T, string){layer1, layer2, layer3} {
		key, name := "extract-"+string(rune('1'+i)), "l"+string(rune('1'+i))
		ms, err := e.sn.Prepare(e.ctx, key, parent, nil)
		must(t, err)
		withDetached(t, ms, func(dir string) { apply(t, dir) })
		must(t, e.sn.Commit(e.ctx, name, key, nil))
		parent = name
	}
	ms, err := e.sn.Prepare(e.ctx, "ctr", "l3", nil)
	must(t, err)
	withMounted(t, ms, func(dir string) { checkLayer3(t, dir) })
	ms, err = e.sn.View(e.ctx, "view", "l2", nil)
	must(t, err)
	withDetached(t, ms, func(dir string) {
		checkLayer2(t, dir)
		checkReadOnly(t, dir)
	})
}

// testDeepChain stacks twelve layers, each adding a file and replacing the
// one before's, and reads the top through mount.All.
func testDeepChain(t *testing.T, e *env) {
	const depth = 12
	parent := ""
	for i := range depth {
		key, name := fmt.Sprintf("extract-%d", i), fmt.Sprintf("layer-%d", i)
		ms, err := e.sn.Prepare(e.ctx, key, parent, nil)
		must(t, err)
		withMounted(t, ms, func(dir string) {
			writeFile(t, filepath.Join(dir, name), name)
			writeFile(t, filepath.Join(dir, "top"), name)
			if i > 0 {
				must(t, os.Remove(filepath.Join(dir, fmt.Sprintf("layer-%d", i-1))))
			}
		})
		must(t, e.sn.Commit(e.ctx, name, key, nil))
		parent = name
	}
	top := fmt.Sprintf("layer-%d", depth-1)
	ms, err := e.sn.Prepare(e.ctx, "ctr", parent, nil)
	must(t, err)
	withMounted(t, ms, func(dir string) {
		checkNames(t, dir, top, "top")
		checkFile(t, filepath.Join(dir, "top"), top)
	})
	ms, err = e.sn.View(e.ctx, "view", parent, nil)
	must(t, err)
	withMounted(t, ms, func(dir string) { checkNames(t, dir, top, "top") })
	ms, err = e.sn.View(e.ctx, "view-mid", "layer-5", nil)
	must(t, err)
	withMounted(t, ms, func(dir string) { checkNames(t, dir, "layer-5", "top") })
}
