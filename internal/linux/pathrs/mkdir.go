package pathrs

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// MkdirAll creates the missing directories of p inside the root (with mode,
// less the umask, like os.MkdirAll) and returns an O_PATH handle on p.
// Existing symlinks along p are followed, inside the root; a dangling symlink
// is an error (it is never created through). It is an error if p exists and is
// not a directory.
//
// Each missing directory is made with mkdirat(2) in a handle on its parent
// that was itself resolved inside the root, so a concurrent swap of a
// component for a symlink can at worst move the result elsewhere inside the
// root, never out of it.
func (r *Root) MkdirAll(p string, mode os.FileMode) (*os.File, error) {
	const dirFlags = unix.O_PATH | unix.O_DIRECTORY
	if f, err := openat2(r.dir, p, dirFlags, inRoot); err == nil {
		return f, nil
	} else if !errors.Is(err, unix.ENOENT) {
		return nil, fmt.Errorf("mkdir %q in root %s: %w", p, r.path, err)
	}

	parent, err := openat2(r.dir, ".", dirFlags, 0)
	if err != nil {
		return nil, fmt.Errorf("mkdir %q in root %s: %w", p, r.path, err)
	}
	names := components(p)
	for i := range names {
		prefix := strings.Join(names[:i+1], "/")
		next, err := r.mkdirStep(parent, names[i], prefix, mode)
		parent.Close()
		if err != nil {
			return nil, fmt.Errorf("mkdir %q in root %s: %w", p, r.path, err)
		}
		parent = next
	}
	return parent, nil
}

// mkdirStep returns a handle on prefix (resolved in the root), whose last
// component is name in parent, creating it in parent when it is missing.
func (r *Root) mkdirStep(parent *os.File, name, prefix string, mode os.FileMode) (*os.File, error) {
	const dirFlags = unix.O_PATH | unix.O_DIRECTORY
	for range maxRetries {
		f, err := openat2(r.dir, prefix, dirFlags, inRoot)
		if err == nil || !errors.Is(err, unix.ENOENT) || name == ".." {
			return f, err
		}
		err = unix.Mkdirat(int(parent.Fd()), name, unixMode(mode))
		if err == nil || !errors.Is(err, unix.EEXIST) {
			if err != nil {
				return nil, fmt.Errorf("create %q: %w", prefix, err)
			}
			continue
		}
		// It exists yet does not resolve: a dangling symlink, or a race.
		var st unix.Stat_t
		if err := unix.Fstatat(int(parent.Fd()), name, &st, unix.AT_SYMLINK_NOFOLLOW); err == nil && st.Mode&unix.S_IFMT == unix.S_IFLNK {
			return nil, fmt.Errorf("%q is a dangling symlink: %w", prefix, unix.ENOENT)
		}
	}
	return nil, fmt.Errorf("%q keeps changing: %w", prefix, unix.EAGAIN)
}

// components splits p into its names, dropping empty and "." names but
// keeping ".." (which only the kernel can resolve, after symlinks).
func components(p string) []string {
	var names []string
	for _, n := range strings.Split(p, "/") {
		if n != "" && n != "." {
			names = append(names, n)
		}
	}
	return names
}

// unixMode converts an os.FileMode into the permission and special bits of a
// mode_t.
func unixMode(mode os.FileMode) uint32 {
	m := uint32(mode.Perm())
	if mode&os.ModeSetuid != 0 {
		m |= unix.S_ISUID
	}
	if mode&os.ModeSetgid != 0 {
		m |= unix.S_ISGID
	}
	if mode&os.ModeSticky != 0 {
		m |= unix.S_ISVTX
	}
	return m
}
