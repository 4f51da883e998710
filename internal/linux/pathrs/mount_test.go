package pathrs

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/berth-project/berth/internal/testenv"
	"golang.org/x/sys/unix"
)

const (
	childRootEnv = "BERTH_PATHRS_TEST_ROOT"
	childOK      = "pathrs mount child: ok"
)

// TestFdPathMount re-executes the test binary in a private mount namespace,
// where mountChild mounts a tmpfs onto the FdPath of a directory whose name
// was replaced by a symlink to "/" after it was resolved.
func TestFdPathMount(t *testing.T) {
	testenv.RequiresRoot(t)
	root := evilTree(t, t.TempDir())
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=mount", childRootEnv+"="+root)
	cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS}
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), childOK) {
		t.Fatalf("mount child: %v\n%s", err, out)
	}
	// The child's namespace is gone with it: nothing is mounted here.
	var dir, moved unix.Stat_t
	if err := unix.Stat(filepath.Join(root, "dir"), &dir); err != nil {
		t.Fatal(err)
	}
	if err := unix.Stat(filepath.Join(root, "dir/moved"), &moved); err != nil {
		t.Fatal(err)
	}
	if dir.Dev != moved.Dev {
		t.Fatal("the child's tmpfs is visible outside its mount namespace")
	}
}

// mountChild runs in its own mount namespace (as root).
func mountChild(root string) error {
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make / private: %w", err)
	}
	r, err := OpenRoot(root)
	if err != nil {
		return err
	}
	defer r.Close()
	h, err := r.MkdirAll("in/target", 0o755)
	if err != nil {
		return err
	}
	defer h.Close()
	// The attack: after resolution, swap the directory for a symlink to "/".
	if err := os.Rename(filepath.Join(root, "dir/target"), filepath.Join(root, "dir/moved")); err != nil {
		return err
	}
	if err := os.Symlink("/", filepath.Join(root, "dir/target")); err != nil {
		return err
	}
	var slash, before unix.Stat_t
	if err := unix.Stat("/", &slash); err != nil {
		return err
	}
	if err := unix.Stat(filepath.Join(root, "dir"), &before); err != nil {
		return err
	}

	if err := unix.Mount("tmpfs", FdPath(h), "tmpfs", 0, "size=1m"); err != nil {
		return fmt.Errorf("mount tmpfs on %s: %w", FdPath(h), err)
	}
	moved := filepath.Join(root, "dir/moved")
	var fs unix.Statfs_t
	if err := unix.Statfs(moved, &fs); err != nil {
		return err
	}
	var st, now unix.Stat_t
	if err := unix.Stat(moved, &st); err != nil {
		return err
	}
	if err := unix.Stat("/", &now); err != nil {
		return err
	}
	var errs []error
	if fs.Type != unix.TMPFS_MAGIC || st.Dev == before.Dev {
		errs = append(errs, fmt.Errorf("%s is not the new tmpfs (magic %#x)", moved, fs.Type))
	}
	if now.Dev != slash.Dev || now.Ino != slash.Ino {
		errs = append(errs, errors.New("the tmpfs landed on /"))
	}
	if err := os.WriteFile(filepath.Join(moved, "probe"), nil, 0o644); err != nil {
		errs = append(errs, err)
	}
	if err := unix.Unmount(moved, 0); err != nil {
		return errors.Join(append(errs, fmt.Errorf("unmount %s: %w", moved, err))...)
	}
	if _, err := os.Stat(filepath.Join(moved, "probe")); err == nil {
		errs = append(errs, errors.New("the probe file outlived the tmpfs"))
	}
	return errors.Join(errs...)
}
