package archive

import (
	"errors"
	"fmt"
	"os"
	"path"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/linux/pathrs"
)

// beneath is the fast path of resolving a directory: below the root, through
// no symlink (RESOLVE_NO_SYMLINKS fails with ELOOP at the first one, and
// resolve.go then walks the name itself).
const beneath = unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS

// tree is the directory a layer is applied to.
type tree struct {
	root *pathrs.Root
	dir  *os.File // O_PATH handle on the root directory
}

func openTree(p string) (*tree, error) {
	root, err := pathrs.OpenRoot(p)
	if err != nil {
		return nil, err
	}
	// Not O_DIRECTORY: pathrs mistakes it for O_TMPFILE (which contains
	// its bit); the root is a directory, as openat2 checks below.
	dir, err := root.Open(".", unix.O_PATH)
	if err != nil {
		root.Close()
		return nil, err
	}
	return &tree{root: root, dir: dir}, nil
}

func (t *tree) close() {
	t.dir.Close()
	t.root.Close()
}

// cleanName checks that a name from the layer (an entry or a hard link
// target) stays inside the root lexically: relative, and without "..". It
// returns the name cleaned, "." for the root itself.
func cleanName(name string) (string, error) {
	if name == "" {
		return "", fmt.Errorf("empty name: %w", errdefs.ErrInvalidArgument)
	}
	if strings.HasPrefix(name, "/") {
		return "", fmt.Errorf("absolute name %q: %w", name, errdefs.ErrInvalidArgument)
	}
	for _, c := range strings.Split(name, "/") {
		if c == ".." {
			return "", fmt.Errorf("name %q climbs out with \"..\": %w", name, errdefs.ErrInvalidArgument)
		}
	}
	return path.Clean(name), nil
}

// openat2 opens p beneath dir without following symlinks. ELOOP and EXDEV
// are returned as they are (the caller walks the name itself), the rest
// named.
func (t *tree) openat2(dir *os.File, p string, flags int) (*os.File, error) {
	how := unix.OpenHow{Flags: uint64(flags | unix.O_CLOEXEC), Resolve: beneath}
	for {
		fd, err := unix.Openat2(int(dir.Fd()), p, &how)
		switch {
		case err == nil:
			return os.NewFile(uintptr(fd), path.Join(t.root.Path(), p)), nil
		case errors.Is(err, unix.EAGAIN), errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.ELOOP), errors.Is(err, unix.EXDEV):
			return nil, err
		case errors.Is(err, unix.ENOTDIR):
			return nil, fmt.Errorf("%q is not a directory: %w", p, errdefs.ErrInvalidArgument)
		}
		return nil, fmt.Errorf("open %q: %w", p, err)
	}
}

// removeAll removes name from the directory dir, recursively, never
// following a symlink. It is no error if name does not exist.
func removeAll(dir int, name string) error {
	err := unix.Unlinkat(dir, name, 0)
	if err == nil || errors.Is(err, unix.ENOENT) {
		return nil
	}
	if !errors.Is(err, unix.EISDIR) {
		return fmt.Errorf("remove %q: %w", name, err)
	}
	fd, err := unix.Openat(dir, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("remove %q: %w", name, err)
	}
	f := os.NewFile(uintptr(fd), name)
	names, err := f.Readdirnames(-1)
	for _, n := range names {
		if err == nil {
			err = removeAll(fd, n)
		}
	}
	f.Close()
	if err != nil {
		return fmt.Errorf("remove %q: %w", name, err)
	}
	if err := unix.Unlinkat(dir, name, unix.AT_REMOVEDIR); err != nil && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("remove %q: %w", name, err)
	}
	return nil
}
