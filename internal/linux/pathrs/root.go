package pathrs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// maxRetries bounds the retries of a lookup that the kernel refused with
// EAGAIN (a rename or mount raced with ".." resolution) or that a concurrent
// change of the tree invalidated.
const maxRetries = 128

// inRoot is how every lookup in a Root resolves: symlinks and ".." as if the
// root were "/", and no /proc magic links (they jump anywhere).
const inRoot = unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS

// Root is an open handle (O_PATH|O_DIRECTORY) on a rootfs directory. All of
// its methods resolve paths inside it; none can reach outside of it.
type Root struct {
	dir  *os.File
	path string
}

// OpenRoot opens the directory at path as a Root. path itself is trusted (it
// is resolved normally, on the host); only what is below it is not.
func OpenRoot(path string) (*Root, error) {
	fd, err := unix.Open(path, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open root %s: %w", path, err)
	}
	return &Root{dir: os.NewFile(uintptr(fd), path), path: path}, nil
}

// Close releases the handle on the root directory.
func (r *Root) Close() error { return r.dir.Close() }

// Path returns the path the root was opened with.
func (r *Root) Path() string { return r.path }

// Open resolves p inside the root and opens it with flags (O_CLOEXEC is
// always added; O_PATH is allowed). p may be absolute or relative: it is
// always taken inside the root, every symlink is resolved as if the root were
// "/", and ".." cannot climb above the root. Open does not create files
// (O_CREAT and O_TMPFILE are refused): use MkFile or MkdirAll for that.
func (r *Root) Open(p string, flags int) (*os.File, error) {
	// O_TMPFILE includes the O_DIRECTORY bit: compare the whole mask.
	if flags&unix.O_CREAT != 0 || flags&unix.O_TMPFILE == unix.O_TMPFILE {
		return nil, fmt.Errorf("open %q in root %s: O_CREAT and O_TMPFILE are not supported, use MkFile: %w", p, r.path, unix.EINVAL)
	}
	f, err := openat2(r.dir, p, flags, inRoot)
	if err != nil {
		return nil, fmt.Errorf("open %q in root %s: %w", p, r.path, err)
	}
	return f, nil
}

// openat2 opens p below dir with openat2(2), retrying EAGAIN and EINTR. The
// returned file is named after dir and p (for messages only).
func openat2(dir *os.File, p string, flags int, resolve uint64) (*os.File, error) {
	if p == "" {
		p = "."
	}
	how := unix.OpenHow{Flags: uint64(flags | unix.O_CLOEXEC), Resolve: resolve}
	for range maxRetries {
		fd, err := unix.Openat2(int(dir.Fd()), p, &how)
		if err == nil {
			return os.NewFile(uintptr(fd), filepath.Join(dir.Name(), p)), nil
		}
		if !errors.Is(err, unix.EAGAIN) && !errors.Is(err, unix.EINTR) {
			return nil, err
		}
	}
	return nil, unix.EAGAIN
}

// fstat returns the stat of an open file.
func fstat(f *os.File) (unix.Stat_t, error) {
	var st unix.Stat_t
	err := unix.Fstat(int(f.Fd()), &st)
	return st, err
}
