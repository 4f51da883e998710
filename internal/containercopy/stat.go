package containercopy

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/linux/pathrs"
)

// PathStat describes a path in a container, as docker's container path
// stat (the X-Docker-Container-Path-Stat header, in the same JSON).
type PathStat struct {
	Name  string      `json:"name"` // the last component of the path as given ("." for "dir/.")
	Size  int64       `json:"size"`
	Mode  os.FileMode `json:"mode"`
	Mtime time.Time   `json:"mtime"`
	// LinkTarget is, for a symlink, the absolute path inside the
	// container that it resolves to, every symlink on the way followed
	// inside the container.
	LinkTarget string `json:"linkTarget"`
}

// Stat describes path inside rootfs without following a final symlink
// (unless path ends in "/" or "/."). A missing path is a
// *FileNotFoundError.
func Stat(rootfs, p string) (PathStat, error) {
	c := parseContainerPath(p)
	root, err := pathrs.OpenRoot(rootfs)
	if err != nil {
		return PathStat{}, fmt.Errorf("stat %s in container: %w", p, err)
	}
	defer root.Close()
	f, st, err := lookup(root, c, c.follow)
	if err != nil {
		return PathStat{}, lookupError(c, err)
	}
	defer f.Close()
	ps := PathStat{
		Name:  c.name(),
		Size:  st.Size,
		Mode:  fileMode(st.Mode),
		Mtime: time.Unix(st.Mtim.Sec, st.Mtim.Nsec),
	}
	if st.Mode&unix.S_IFMT == unix.S_IFLNK {
		if ps.LinkTarget, err = linkTarget(root, c.abs, f); err != nil {
			return PathStat{}, fmt.Errorf("stat %s in container: %w", p, err)
		}
	}
	return ps, nil
}

// lookup resolves c inside root and returns an O_PATH handle on it and its
// stat. The last component is followed when follow is set, else a symlink
// there is the symlink itself.
func lookup(root *pathrs.Root, c containerPath, follow bool) (*os.File, unix.Stat_t, error) {
	var st unix.Stat_t
	if follow || c.abs == "/" {
		f, err := root.Open(c.abs, unix.O_PATH)
		if err != nil {
			return nil, st, err
		}
		if err := unix.Fstat(int(f.Fd()), &st); err != nil {
			f.Close()
			return nil, st, fmt.Errorf("stat %s: %w", c.abs, err)
		}
		// "x/" and "x/." name a directory (the kernel's rule for a
		// trailing slash; the path was cleaned of it).
		if c.follow && st.Mode&unix.S_IFMT != unix.S_IFDIR {
			f.Close()
			return nil, st, unix.ENOTDIR
		}
		return f, st, nil
	}
	dir, err := root.Open(path.Dir(c.abs), unix.O_PATH|unix.O_DIRECTORY)
	if err != nil {
		return nil, st, err
	}
	defer dir.Close()
	f, err := openNoFollow(dir, path.Base(c.abs))
	if err != nil {
		return nil, st, err
	}
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		f.Close()
		return nil, st, fmt.Errorf("stat %s: %w", c.abs, err)
	}
	return f, st, nil
}

// openNoFollow opens the single component name in dir as an O_PATH handle,
// on the symlink itself if name is one.
func openNoFollow(dir *os.File, name string) (*os.File, error) {
	for {
		fd, err := unix.Openat(int(dir.Fd()), name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return nil, err
		}
		return os.NewFile(uintptr(fd), path.Join(dir.Name(), name)), nil
	}
}

// linkTarget is what the symlink at abs (link, an O_PATH handle on it)
// resolves to inside root, as an absolute container path. A dangling
// symlink resolves as far as its target's parent exists; the rest is
// taken as it is written.
func linkTarget(root *pathrs.Root, abs string, link *os.File) (string, error) {
	if f, err := root.Open(abs, unix.O_PATH); err == nil {
		defer f.Close()
		return nameInRoot(root, f)
	} else if !errors.Is(err, unix.ENOENT) {
		return "", err
	}
	target, err := readlink(link)
	if err != nil {
		return "", err
	}
	if !strings.HasPrefix(target, "/") {
		target = path.Join(path.Dir(abs), target)
	}
	target = path.Clean(target)
	if target == "/" {
		return target, nil
	}
	parent, err := root.Open(path.Dir(target), unix.O_PATH|unix.O_DIRECTORY)
	if err != nil {
		return target, nil
	}
	defer parent.Close()
	dir, err := nameInRoot(root, parent)
	if err != nil {
		return "", err
	}
	return path.Join(dir, path.Base(target)), nil
}

// nameInRoot returns the absolute path inside root of the inode that f
// (resolved inside root) refers to, read back from the kernel.
func nameInRoot(root *pathrs.Root, f *os.File) (string, error) {
	r, err := root.Open("/", unix.O_PATH)
	if err != nil {
		return "", err
	}
	defer r.Close()
	rootPath, err := fdName(r)
	if err != nil {
		return "", err
	}
	p, err := fdName(f)
	if err != nil {
		return "", err
	}
	rel, err := filepath.Rel(rootPath, p)
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return "", fmt.Errorf("%s is not below the root %s: %w", p, rootPath, errdefs.ErrFailedPrecondition)
	}
	return path.Join("/", rel), nil
}

// fdName is the path of what f refers to, as the kernel names it.
func fdName(f *os.File) (string, error) {
	p, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(int(f.Fd())))
	if err != nil {
		return "", fmt.Errorf("name of %s: %w", f.Name(), err)
	}
	if !strings.HasPrefix(p, "/") || strings.HasSuffix(p, " (deleted)") {
		return "", fmt.Errorf("name of %s: %q is not a path: %w", f.Name(), p, errdefs.ErrFailedPrecondition)
	}
	return p, nil
}

// readlink reads the target of the symlink that the O_PATH handle f holds.
func readlink(f *os.File) (string, error) {
	for size := 256; ; size *= 2 {
		buf := make([]byte, size)
		n, err := unix.Readlinkat(int(f.Fd()), "", buf)
		if err != nil {
			return "", fmt.Errorf("readlink %s: %w", f.Name(), err)
		}
		if n < size {
			return string(buf[:n]), nil
		}
	}
}

// fileMode converts a stat(2) mode to an os.FileMode.
func fileMode(m uint32) os.FileMode {
	mode := os.FileMode(m & 0o777)
	switch m & unix.S_IFMT {
	case unix.S_IFDIR:
		mode |= os.ModeDir
	case unix.S_IFLNK:
		mode |= os.ModeSymlink
	case unix.S_IFIFO:
		mode |= os.ModeNamedPipe
	case unix.S_IFSOCK:
		mode |= os.ModeSocket
	case unix.S_IFCHR:
		mode |= os.ModeDevice | os.ModeCharDevice
	case unix.S_IFBLK:
		mode |= os.ModeDevice
	}
	if m&unix.S_ISUID != 0 {
		mode |= os.ModeSetuid
	}
	if m&unix.S_ISGID != 0 {
		mode |= os.ModeSetgid
	}
	if m&unix.S_ISVTX != 0 {
		mode |= os.ModeSticky
	}
	return mode
}
