// Package selfexe gives berth-runtime a way to re-execute itself that a
// container cannot turn against the host (CVE-2019-5736): the runtime's
// binary runs inside the container's namespaces during create and exec, and
// a container process that reaches it through /proc/<pid>/exe (or by making
// its own binary "#!/proc/self/exe") must not be able to open it for
// writing.
//
// The binary is executed through a detached, read-only bind mount of
// itself (open_tree(OPEN_TREE_CLONE) + mount_setattr(MOUNT_ATTR_RDONLY)):
// two syscalls, no copy, no mount namespace. Every later open of that
// /proc/<pid>/exe for writing fails with EROFS.
package selfexe

import (
	"fmt"
	"os"
	"strconv"
	"sync"

	"golang.org/x/sys/unix"
)

var (
	once   sync.Once
	sealed *os.File
	err    error
)

// Path returns the path to execute to run this binary again: the sealed,
// read-only view ("/proc/self/fd/N"), or "/proc/self/exe" with the error
// that prevented sealing (an unprivileged user cannot make mounts; the
// caller decides whether that is acceptable).
func Path() (string, error) {
	once.Do(func() { sealed, err = seal("/proc/self/exe") })
	if err != nil {
		return "/proc/self/exe", err
	}
	return "/proc/self/fd/" + strconv.Itoa(int(sealed.Fd())), nil
}

// seal returns a handle on path through a detached read-only bind mount.
func seal(path string) (*os.File, error) {
	fd, err := unix.OpenTree(unix.AT_FDCWD, path, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("clone a mount of the runtime binary: %w", err)
	}
	attr := &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV}
	if err := unix.MountSetattr(fd, "", unix.AT_EMPTY_PATH, attr); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("make the runtime binary's mount read-only: %w", err)
	}
	return os.NewFile(uintptr(fd), "berth-runtime (sealed)"), nil
}
