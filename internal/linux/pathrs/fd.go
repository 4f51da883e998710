package pathrs

import (
	"fmt"
	"os"
	"runtime"
	"strconv"

	"golang.org/x/sys/unix"
)

// FdPath returns a path naming exactly the inode that f refers to
// ("/proc/thread-self/fd/N"). mount(2), chdir(2) and the like follow that
// magic link to the very inode f holds, so nothing can swap the target
// between resolution and use. It needs /proc mounted and f kept open until
// the call that uses the path returns.
func FdPath(f *os.File) string {
	return "/proc/thread-self/fd/" + strconv.Itoa(int(f.Fd()))
}

// IsDevNull reports whether f is the real /dev/null: a character device with
// device number 1:3. Check it before bind-mounting a "/dev/null" over a masked
// path (CVE-2025-31133: a container can replace its /dev/null with a symlink
// or another file).
func IsDevNull(f *os.File) (bool, error) {
	st, err := fstat(f)
	if err != nil {
		return false, fmt.Errorf("stat %s: %w", f.Name(), err)
	}
	return st.Mode&unix.S_IFMT == unix.S_IFCHR && st.Rdev == unix.Mkdev(1, 3), nil
}

// Reopen opens the inode that f (usually an O_PATH handle) refers to with new
// flags (O_CLOEXEC is always added), through the fd directory of a verified
// procfs at /proc. It refuses when f is a symlink, and checks that the result
// is the very same inode as f.
func Reopen(f *os.File, flags int) (*os.File, error) {
	want, err := fstat(f)
	if err != nil {
		return nil, fmt.Errorf("reopen %s: %w", f.Name(), err)
	}
	if want.Mode&unix.S_IFMT == unix.S_IFLNK {
		return nil, fmt.Errorf("reopen %s: is a symlink: %w", f.Name(), unix.ELOOP)
	}
	proc, err := OpenProc("/proc")
	if err != nil {
		return nil, fmt.Errorf("reopen %s: %w", f.Name(), err)
	}
	defer proc.Close()

	runtime.LockOSThread() // thread-self must stay this thread until the open
	defer runtime.UnlockOSThread()
	fdDir, err := proc.Open("thread-self/fd", unix.O_PATH|unix.O_DIRECTORY)
	if err != nil {
		return nil, fmt.Errorf("reopen %s: %w", f.Name(), err)
	}
	defer fdDir.Close()
	fd, err := unix.Openat(int(fdDir.Fd()), strconv.Itoa(int(f.Fd())), flags|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("reopen %s: %w", f.Name(), err)
	}
	g := os.NewFile(uintptr(fd), f.Name())
	got, err := fstat(g)
	if err == nil && (got.Dev != want.Dev || got.Ino != want.Ino) {
		err = fmt.Errorf("reopened another inode: %w", unix.EXDEV)
	}
	if err != nil {
		g.Close()
		return nil, fmt.Errorf("reopen %s: %w", f.Name(), err)
	}
	return g, nil
}
