package initproc

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/linux/pathrs"
)

// DefaultDevices are created in every container's /dev (runtime-spec
// "Default Devices").
var DefaultDevices = []specs.LinuxDevice{
	{Path: "/dev/null", Type: "c", Major: 1, Minor: 3},
	{Path: "/dev/zero", Type: "c", Major: 1, Minor: 5},
	{Path: "/dev/full", Type: "c", Major: 1, Minor: 7},
	{Path: "/dev/random", Type: "c", Major: 1, Minor: 8},
	{Path: "/dev/urandom", Type: "c", Major: 1, Minor: 9},
	{Path: "/dev/tty", Type: "c", Major: 5, Minor: 0},
}

var devSymlinks = [][2]string{
	{"/proc/self/fd", "/dev/fd"},
	{"/proc/self/fd/0", "/dev/stdin"},
	{"/proc/self/fd/1", "/dev/stdout"},
	{"/proc/self/fd/2", "/dev/stderr"},
}

// devices fills /dev: default and configured device nodes (bind-mounted
// from the host inside a user namespace, where mknod is not allowed), the
// standard symlinks and /dev/ptmx.
func (r *rootfs) devices() error {
	for _, m := range r.spec.Mounts {
		if filepath.Clean(m.Destination) == "/dev" && (m.Type == "bind" || mountHasBind(m.Options)) {
			return nil // the host's /dev is used as it is
		}
	}
	devs := append([]specs.LinuxDevice(nil), DefaultDevices...)
	if r.spec.Linux != nil {
		devs = append(devs, r.spec.Linux.Devices...)
	}
	for _, d := range devs {
		if err := r.device(d); err != nil {
			return fmt.Errorf("device %s: %w", d.Path, err)
		}
	}
	for _, l := range devSymlinks {
		if err := r.root.Symlink(l[0], l[1]); err != nil {
			return err
		}
	}
	if _, err := os.Stat("/proc/kcore"); err == nil {
		if err := r.root.Symlink("/proc/kcore", "/dev/core"); err != nil {
			return err
		}
	}
	if f, err := r.root.Open("/dev/pts/ptmx", unix.O_PATH); err == nil {
		f.Close()
		if err := r.root.Symlink("pts/ptmx", "/dev/ptmx"); err != nil && !errors.Is(err, unix.EEXIST) {
			return err
		}
	}
	return nil
}

func mountHasBind(opts []string) bool {
	for _, o := range opts {
		if o == "bind" || o == "rbind" {
			return true
		}
	}
	return false
}

func (r *rootfs) device(d specs.LinuxDevice) error {
	if !strings.HasPrefix(d.Path, "/dev/") {
		return fmt.Errorf("device path must be under /dev")
	}
	mode := uint32(0o666)
	if d.FileMode != nil {
		mode = uint32(*d.FileMode & 0o7777)
	}
	var kind uint32
	switch d.Type {
	case "c", "u":
		kind = unix.S_IFCHR
	case "b":
		kind = unix.S_IFBLK
	case "p":
		kind = unix.S_IFIFO
	default:
		return fmt.Errorf("unknown device type %q", d.Type)
	}
	if r.cfg.UserNS {
		// No mknod in a user namespace: bind the host's node.
		dst, err := r.root.MkFile(d.Path, 0o600)
		if err != nil {
			return err
		}
		defer dst.Close()
		if err := unix.Mount(d.Path, pathrs.FdPath(dst), "", unix.MS_BIND, ""); err != nil {
			return fmt.Errorf("bind from host: %w", err)
		}
		return nil
	}
	dev := unix.Mkdev(uint32(d.Major), uint32(d.Minor))
	if err := r.root.Mknod(d.Path, kind|mode, dev); err != nil {
		return err
	}
	f, err := r.root.Open(d.Path, unix.O_PATH|unix.O_NOFOLLOW)
	if err != nil {
		return err
	}
	defer f.Close()
	p := pathrs.FdPath(f)
	uid, gid := -1, -1
	if d.UID != nil {
		uid = int(*d.UID)
	}
	if d.GID != nil {
		gid = int(*d.GID)
	}
	if err := unix.Fchownat(unix.AT_FDCWD, p, uid, gid, 0); err != nil {
		return fmt.Errorf("chown: %w", err)
	}
	// mknod honours the umask: set the mode exactly.
	if err := unix.Fchmodat(unix.AT_FDCWD, p, mode, 0); err != nil {
		return fmt.Errorf("chmod: %w", err)
	}
	return nil
}
