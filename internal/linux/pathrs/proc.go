package pathrs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// procRootIno is the inode number of the root directory of every procfs.
const procRootIno = 1

// Proc is a handle on the root of a real procfs mount, for safe reads and
// writes of /proc/self/oom_score_adj, /proc/sys/..., /proc/self/attr/... that
// an over-mount or a fake /proc cannot redirect (CVE-2019-16884,
// CVE-2025-52881).
type Proc struct {
	dir  *os.File
	path string
}

// OpenProc opens the procfs mounted at path (usually "/proc") and verifies
// that it is a real procfs (statfs magic PROC_SUPER_MAGIC) and the root of
// its mount (the procfs root inode, STATX_ATTR_MOUNT_ROOT).
func OpenProc(path string) (*Proc, error) {
	fd, err := unix.Open(path, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open procfs %s: %w", path, err)
	}
	p := &Proc{dir: os.NewFile(uintptr(fd), path), path: path}
	if err := p.verifyRoot(); err != nil {
		p.Close()
		return nil, fmt.Errorf("open procfs %s: %w", path, err)
	}
	return p, nil
}

func (p *Proc) verifyRoot() error {
	if err := onProcfs(p.dir); err != nil {
		return err
	}
	var stx unix.Statx_t
	if err := unix.Statx(int(p.dir.Fd()), "", unix.AT_EMPTY_PATH|unix.AT_SYMLINK_NOFOLLOW,
		unix.STATX_INO, &stx); err != nil {
		return fmt.Errorf("statx: %w", err)
	}
	if stx.Ino != procRootIno {
		return fmt.Errorf("not the root of a procfs (inode %d): %w", stx.Ino, unix.EXDEV)
	}
	if stx.Attributes_mask&unix.STATX_ATTR_MOUNT_ROOT != 0 && stx.Attributes&unix.STATX_ATTR_MOUNT_ROOT == 0 {
		return fmt.Errorf("not the root of a mount: %w", unix.EXDEV)
	}
	return nil
}

// Close releases the handle.
func (p *Proc) Close() error { return p.dir.Close() }

// Open opens subpath (relative to the procfs root, e.g. "self/oom_score_adj"
// or "sys/net/ipv4/ip_forward") with flags (O_CLOEXEC is always added). No
// symlink is followed and no mount is crossed (RESOLVE_NO_SYMLINKS |
// RESOLVE_BENEATH | RESOLVE_NO_XDEV), except that a first component "self" or
// "thread-self" is translated to the numeric pid, or pid/task/tid, of the
// caller (which must then be in the pid namespace of this procfs). Callers
// that use "thread-self" must hold runtime.LockOSThread for as long as the
// thread matters (LSM attributes are per thread). The result is verified to
// be on procfs.
func (p *Proc) Open(subpath string, flags int) (*os.File, error) {
	rel, err := p.translate(subpath)
	if err != nil {
		return nil, fmt.Errorf("open %s in procfs %s: %w", subpath, p.path, err)
	}
	f, err := openat2(p.dir, rel, flags, unix.RESOLVE_NO_SYMLINKS|unix.RESOLVE_BENEATH|unix.RESOLVE_NO_XDEV)
	if err != nil {
		return nil, fmt.Errorf("open %s in procfs %s: %w", subpath, p.path, err)
	}
	if err := onProcfs(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("open %s in procfs %s: %w", subpath, p.path, err)
	}
	return f, nil
}

// translate replaces a leading "self" or "thread-self" of subpath by the
// numeric path of this process or thread, after checking that this procfs
// agrees on who we are.
func (p *Proc) translate(subpath string) (string, error) {
	rel := strings.TrimLeft(subpath, "/")
	first, rest, _ := strings.Cut(rel, "/")
	if first != "self" && first != "thread-self" {
		return rel, nil
	}
	pid := strconv.Itoa(unix.Getpid())
	buf := make([]byte, 64)
	n, err := unix.Readlinkat(int(p.dir.Fd()), "self", buf)
	if err != nil {
		return "", fmt.Errorf("readlink self: %w", err)
	}
	if string(buf[:n]) != pid {
		return "", fmt.Errorf("procfs is of another pid namespace (self is %q, pid %s): %w", buf[:n], pid, unix.ESRCH)
	}
	if first == "thread-self" {
		pid += "/task/" + strconv.Itoa(unix.Gettid())
	}
	if rest == "" {
		return pid, nil
	}
	return pid + "/" + rest, nil
}

// onProcfs checks that f is on a procfs.
func onProcfs(f *os.File) error {
	var fs unix.Statfs_t
	if err := unix.Fstatfs(int(f.Fd()), &fs); err != nil {
		return fmt.Errorf("statfs: %w", err)
	}
	if fs.Type != unix.PROC_SUPER_MAGIC {
		return fmt.Errorf("not on procfs (magic %#x): %w", fs.Type, unix.EXDEV)
	}
	return nil
}

// IsSymlinkedProc reports whether rootfs/proc is a symlink, which a runtime
// must refuse before mounting procfs there (CVE-2023-27561, CVE-2019-19921).
// A missing rootfs/proc is not a symlink.
func IsSymlinkedProc(rootfs string) (bool, error) {
	var st unix.Stat_t
	p := filepath.Join(rootfs, "proc")
	err := unix.Fstatat(unix.AT_FDCWD, p, &st, unix.AT_SYMLINK_NOFOLLOW)
	if errors.Is(err, unix.ENOENT) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("stat %s: %w", p, err)
	}
	return st.Mode&unix.S_IFMT == unix.S_IFLNK, nil
}
