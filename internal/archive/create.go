package archive

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"os"
	"path"

	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/errdefs"
)

// node is the place of one entry: the name it gets in its parent directory.
type node struct {
	dir  int // the parent directory (O_PATH)
	name string
	hdr  *tar.Header
}

// dirTime is the times a directory gets after the whole layer is applied.
type dirTime struct {
	name string
	hdr  *tar.Header
}

// mkdir makes the directory, or keeps the one in place (a lower layer's),
// replacing anything else.
func (a *applier) mkdir(n node, name string) error {
	var st unix.Stat_t
	err := unix.Fstatat(n.dir, n.name, &st, unix.AT_SYMLINK_NOFOLLOW)
	if err != nil || st.Mode&unix.S_IFMT != unix.S_IFDIR {
		if err := a.replace(n, true); err != nil {
			return err
		}
		if err := unix.Mkdirat(n.dir, n.name, 0o700); err != nil {
			return fmt.Errorf("mkdir: %w", err)
		}
	}
	a.dirTimes = append(a.dirTimes, dirTime{name: name, hdr: n.hdr})
	return setOwnerMode(n)
}

// replace clears the place of n for a new entry (a directory when dir),
// removing what is there, unless NoOverwriteDirNonDir forbids it.
func (a *applier) replace(n node, dir bool) error {
	if a.opts.NoOverwriteDirNonDir {
		var st unix.Stat_t
		err := unix.Fstatat(n.dir, n.name, &st, unix.AT_SYMLINK_NOFOLLOW)
		switch {
		case errors.Is(err, unix.ENOENT):
			return nil
		case err != nil:
			return fmt.Errorf("stat: %w", err)
		case dir && st.Mode&unix.S_IFMT != unix.S_IFDIR:
			return fmt.Errorf("cannot overwrite non-directory %q with a directory: %w", n.name, errdefs.ErrFailedPrecondition)
		case !dir && st.Mode&unix.S_IFMT == unix.S_IFDIR:
			return fmt.Errorf("cannot overwrite directory %q with a non-directory: %w", n.name, errdefs.ErrFailedPrecondition)
		}
	}
	return removeAll(n.dir, n.name)
}

// writeFile creates a regular file with the entry's content.
func (a *applier) writeFile(n node, content io.Reader) error {
	if err := a.replace(n, false); err != nil {
		return err
	}
	fd, err := unix.Openat(n.dir, n.name, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return fmt.Errorf("create: %w", err)
	}
	f := os.NewFile(uintptr(fd), n.name)
	_, err = io.CopyBuffer(&contentWriter{w: f, b: &a.budget}, content, a.buf)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write: %w", err)
	}
	if err := setOwnerMode(n); err != nil {
		return err
	}
	return setTimes(n)
}

// symlink creates the symlink as it is: it is never followed while applying.
func (a *applier) symlink(n node) error {
	if err := a.replace(n, false); err != nil {
		return err
	}
	if err := unix.Symlinkat(n.hdr.Linkname, n.dir, n.name); err != nil {
		return fmt.Errorf("symlink: %w", err)
	}
	if err := unix.Fchownat(n.dir, n.name, n.hdr.Uid, n.hdr.Gid, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("lchown: %w", err)
	}
	if err := setXattrs(n); err != nil {
		return err
	}
	return setTimes(n)
}

// link hard-links a regular file already in the root, named by the entry's
// link name (taken, like every name, relative to the root, its parents
// resolved inside the root and its last component not followed). name is
// the entry's canonical name.
func (a *applier) link(n node, name string) error {
	target, err := cleanName(n.hdr.Linkname)
	if err != nil {
		return fmt.Errorf("hard link target: %w", err)
	}
	tdir, tcanon, err := a.tree.openDir(path.Dir(target), false)
	if errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("hard link target %q does not exist: %w", target, errdefs.ErrInvalidArgument)
	}
	if err != nil {
		return fmt.Errorf("hard link target: %w", err)
	}
	defer tdir.Close()
	tbase := path.Base(target)
	if path.Join(tcanon, tbase) == name {
		return fmt.Errorf("hard link to itself: %w", errdefs.ErrInvalidArgument)
	}
	var st unix.Stat_t
	if err := unix.Fstatat(int(tdir.Fd()), tbase, &st, unix.AT_SYMLINK_NOFOLLOW); errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("hard link target %q does not exist: %w", target, errdefs.ErrInvalidArgument)
	} else if err != nil {
		return fmt.Errorf("hard link target %q: %w", target, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return fmt.Errorf("hard link target %q is not a regular file: %w", target, errdefs.ErrInvalidArgument)
	}
	if err := a.replace(n, false); err != nil {
		return err
	}
	if err := unix.Linkat(int(tdir.Fd()), tbase, n.dir, n.name, 0); err != nil {
		return fmt.Errorf("link to %q: %w", target, err)
	}
	return nil
}

// mknod creates a fifo, or a device node when the options allow it.
func (a *applier) mknod(n node) error {
	mode := uint32(unix.S_IFIFO)
	switch n.hdr.Typeflag {
	case tar.TypeChar:
		mode = unix.S_IFCHR
	case tar.TypeBlock:
		mode = unix.S_IFBLK
	}
	if mode != unix.S_IFIFO && !a.opts.AllowDevices {
		return fmt.Errorf("device node %d:%d refused (devices not allowed): %w", n.hdr.Devmajor, n.hdr.Devminor, errdefs.ErrInvalidArgument)
	}
	if err := a.replace(n, false); err != nil {
		return err
	}
	dev := unix.Mkdev(uint32(n.hdr.Devmajor), uint32(n.hdr.Devminor))
	if err := unix.Mknodat(n.dir, n.name, mode|0o600, int(dev)); err != nil {
		if errors.Is(err, unix.EPERM) {
			return fmt.Errorf("mknod: %w (needs CAP_MKNOD)", err)
		}
		return fmt.Errorf("mknod: %w", err)
	}
	if err := setOwnerMode(n); err != nil {
		return err
	}
	return setTimes(n)
}
