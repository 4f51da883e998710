package archive

import (
	"errors"
	"fmt"
	"os"
	"path"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/errdefs"
)

// maxSymlinks bounds the symlinks followed while resolving one name, as the
// kernel's own limit does.
const maxSymlinks = 40

// openDir returns an O_PATH handle on the directory p (a cleaned name) and
// its canonical name: where p really is below the root, with every symlink
// along it resolved ("." for the root itself).
//
// Symlinks along p are followed inside the root, as if the root were "/"
// (the semantics of openat2's RESOLVE_IN_ROOT): an absolute target starts
// again at the root and ".." never climbs above it, so "lib -> usr/lib" or
// "lib -> /usr/lib" leads "lib/x" to "usr/lib/x" and "evil -> /" or
// "evil -> ../../.." leads "evil/x" to "x". With create, missing
// directories are made (0755), also where a dangling symlink points, as
// containerd does. The last component of an entry is never resolved here:
// callers act on it in its parent without following it.
func (t *tree) openDir(p string, create bool) (*os.File, string, error) {
	f, err := t.openat2(t.dir, p, unix.O_PATH|unix.O_DIRECTORY)
	switch {
	case err == nil:
		return f, p, nil // no symlink on the way: p is canonical
	case errors.Is(err, unix.ELOOP), errors.Is(err, unix.EXDEV),
		create && errors.Is(err, unix.ENOENT):
		return t.walk(p, create)
	}
	return nil, "", err
}

// level is one directory of a walk: a handle on it and its name in its
// parent.
type level struct {
	dir  *os.File
	name string
}

// walk resolves p one component at a time, keeping the stack of
// directories it went through, so that ".." pops the stack (never above the
// root) and the stack's names are the canonical name. Each component is
// opened with O_NOFOLLOW in the handle of its parent, so nothing is looked up
// twice.
func (t *tree) walk(p string, create bool) (*os.File, string, error) {
	stack := []level{{dir: t.dir}}
	defer func() {
		for _, l := range stack[1:] {
			l.dir.Close()
		}
	}()
	todo := strings.Split(p, "/")
	links := 0
	for len(todo) > 0 {
		c := todo[0]
		todo = todo[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			if len(stack) > 1 {
				stack[len(stack)-1].dir.Close()
				stack = stack[:len(stack)-1]
			}
			continue
		}
		cur := stack[len(stack)-1].dir
		f, err := openNoFollow(cur, c)
		if create && errors.Is(err, unix.ENOENT) {
			if err = unix.Mkdirat(int(cur.Fd()), c, 0o755); err == nil || errors.Is(err, unix.EEXIST) {
				f, err = openNoFollow(cur, c)
			}
		}
		if err != nil {
			return nil, "", fmt.Errorf("directory %q: %w", p, err)
		}
		var st unix.Stat_t
		if err := unix.Fstat(int(f.Fd()), &st); err != nil {
			f.Close()
			return nil, "", fmt.Errorf("directory %q: %w", p, err)
		}
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFDIR:
			stack = append(stack, level{dir: f, name: c})
			continue
		case unix.S_IFLNK:
		default:
			f.Close()
			return nil, "", fmt.Errorf("%q is not a directory: %w", p, errdefs.ErrInvalidArgument)
		}
		target, err := readlink(f)
		f.Close()
		if err != nil {
			return nil, "", fmt.Errorf("directory %q: %w", p, err)
		}
		if links++; links > maxSymlinks {
			return nil, "", fmt.Errorf("%q: too many levels of symlinks: %w", p, errdefs.ErrInvalidArgument)
		}
		if strings.HasPrefix(target, "/") {
			for _, l := range stack[1:] {
				l.dir.Close()
			}
			stack = stack[:1]
		}
		todo = append(strings.Split(target, "/"), todo...)
	}
	names := make([]string, 0, len(stack)-1)
	for _, l := range stack[1:] {
		names = append(names, l.name)
	}
	canon := path.Join(append([]string{"."}, names...)...)
	if len(stack) == 1 {
		f, err := t.openat2(t.dir, ".", unix.O_PATH|unix.O_DIRECTORY)
		return f, canon, err
	}
	top := stack[len(stack)-1].dir
	stack = stack[:len(stack)-1] // not closed by the deferred cleanup
	return top, canon, nil
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
		return os.NewFile(uintptr(fd), name), nil
	}
}

// readlink reads the target of the symlink that the O_PATH handle f holds.
func readlink(f *os.File) (string, error) {
	for size := 256; ; size *= 2 {
		buf := make([]byte, size)
		n, err := unix.Readlinkat(int(f.Fd()), "", buf)
		if err != nil {
			return "", fmt.Errorf("readlink %q: %w", f.Name(), err)
		}
		if n < size {
			if n == 0 {
				return "", fmt.Errorf("symlink %q is empty: %w", f.Name(), errdefs.ErrInvalidArgument)
			}
			return string(buf[:n]), nil
		}
	}
}

// openDirRead opens the directory p (resolved as openDir does, without
// creating) for reading its entries and setting its attributes.
func (t *tree) openDirRead(p string) (*os.File, string, error) {
	h, canon, err := t.openDir(p, false)
	if err != nil {
		return nil, "", err
	}
	defer h.Close()
	fd, err := unix.Openat(int(h.Fd()), ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, "", fmt.Errorf("open %q: %w", p, err)
	}
	return os.NewFile(uintptr(fd), path.Join(t.root.Path(), canon)), canon, nil
}
