package pathrs

import (
	"errors"
	"fmt"
	"os"
	"path"
	"strings"

	"golang.org/x/sys/unix"
)

// parentMode is the mode of the parent directories that MkFile, Mknod and
// Symlink create when they are missing (what runc uses).
const parentMode = 0o755

// MkFile makes sure p exists inside the root as a non-directory and returns an
// O_PATH handle on it. When p is missing, its parents are created (0755) and
// then an empty regular file with mode (less the umask). An existing
// non-directory is accepted as it is (bind-mount targets for files may be
// device nodes or sockets); a directory or a dangling symlink is an error.
func (r *Root) MkFile(p string, mode os.FileMode) (*os.File, error) {
	for range maxRetries {
		f, err := openat2(r.dir, p, unix.O_PATH, inRoot)
		if err == nil {
			st, err := fstat(f)
			if err != nil {
				f.Close()
				return nil, fmt.Errorf("make file %q in root %s: %w", p, r.path, err)
			}
			if st.Mode&unix.S_IFMT == unix.S_IFDIR {
				f.Close()
				return nil, fmt.Errorf("make file %q in root %s: %w", p, r.path, unix.EISDIR)
			}
			return f, nil
		}
		if !errors.Is(err, unix.ENOENT) {
			return nil, fmt.Errorf("make file %q in root %s: %w", p, r.path, err)
		}
		if err := r.createIn(p, func(dir int, name string) error {
			fd, err := unix.Openat(dir, name, unix.O_CREAT|unix.O_EXCL|unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, unixMode(mode))
			if err == nil {
				unix.Close(fd)
			}
			return err
		}); err != nil && !errors.Is(err, unix.EEXIST) {
			return nil, fmt.Errorf("make file %q in root %s: %w", p, r.path, err)
		}
	}
	return nil, fmt.Errorf("make file %q in root %s: keeps changing: %w", p, r.path, unix.EAGAIN)
}

// Mknod creates a device node, fifo or socket (mode holds the S_IF* type and
// the permissions, less the umask) at p inside the root, creating missing
// parents (0755). It refuses to replace anything that already exists at p,
// unless it is already a node of the same type and device number. The last
// component of p is never followed.
func (r *Root) Mknod(p string, mode uint32, dev uint64) error {
	err := r.createIn(p, func(dir int, name string) error {
		err := unix.Mknodat(dir, name, mode, int(dev))
		if !errors.Is(err, unix.EEXIST) {
			return err
		}
		var st unix.Stat_t
		if err := unix.Fstatat(dir, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return err
		}
		if st.Mode&unix.S_IFMT != mode&unix.S_IFMT || st.Rdev != dev {
			return fmt.Errorf("exists as another kind of file: %w", unix.EEXIST)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("mknod %q in root %s: %w", p, r.path, err)
	}
	return nil
}

// Symlink creates a symlink at p inside the root that points to target (stored
// as it is: it is resolved, inside the root, only when later followed),
// creating missing parents (0755). It is no error if the very same symlink
// already exists; anything else at p is. The last component of p is never
// followed.
func (r *Root) Symlink(target, p string) error {
	err := r.createIn(p, func(dir int, name string) error {
		err := unix.Symlinkat(target, dir, name)
		if !errors.Is(err, unix.EEXIST) {
			return err
		}
		buf := make([]byte, unix.PathMax)
		n, err := unix.Readlinkat(dir, name, buf)
		if err != nil || string(buf[:n]) != target {
			return fmt.Errorf("exists and is not a symlink to %q: %w", target, unix.EEXIST)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("symlink %q in root %s: %w", p, r.path, err)
	}
	return nil
}

// createIn resolves (creating it if needed) the parent directory of p inside
// the root and calls create with a descriptor on it and the last name of p.
func (r *Root) createIn(p string, create func(dir int, name string) error) error {
	// No lexical cleaning: ".." must follow the symlinks before it, which
	// only the kernel resolves (in MkdirAll).
	dir, name := path.Split(strings.TrimRight(p, "/"))
	if name == "" || name == "." || name == ".." {
		return fmt.Errorf("no file name in %q: %w", p, unix.EINVAL)
	}
	parent, err := r.MkdirAll(dir, parentMode)
	if err != nil {
		return err
	}
	defer parent.Close()
	return create(int(parent.Fd()), name)
}
