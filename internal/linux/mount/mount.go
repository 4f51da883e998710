package mount

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/linux/ns"
)

// Mount describes one mount as a snapshotter hands it out: what to mount,
// not where. Snapshotters emit []Mount and never mount; one place acts on
// them (All for an attached tree, Detached for a mount fd that vanishes
// with the process).
//
// Options are the familiar mount(8) strings ("ro", "bind",
// "lowerdir=a:b", "upperdir=…", "workdir=…"), parsed by ParseOptions.
type Mount struct {
	Type    string   // "overlay", "bind", "tmpfs", …
	Source  string   // a host path for "bind", the fs name otherwise
	Options []string // mount(8) options
}

// All mounts ms on target in order, each on top of the one before (a
// "bind" source is bind-mounted, recursively for "rbind"). On error the
// mounts already made are undone.
func All(ms []Mount, target string) error {
	for i, m := range ms {
		if err := m.mount(target); err != nil {
			for range i {
				_ = unix.Unmount(target, unix.MNT_DETACH)
			}
			return err
		}
	}
	return nil
}

// Unmount detaches every mount stacked on target (as many as All made).
// A target with nothing mounted on it is not an error.
func Unmount(target string) error {
	for {
		err := unix.Unmount(target, unix.MNT_DETACH)
		if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOENT) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("unmount %s: %w", target, err)
		}
	}
}

func (m Mount) mount(target string) error {
	o := ParseOptions(m.Options)
	typ := m.Type
	if o.Bind() || typ == "bind" {
		typ = ""
		o.Flags |= unix.MS_BIND
	}
	if err := unix.Mount(m.Source, target, typ, o.Flags&^unix.MS_RDONLY, o.DataString()); err != nil {
		return fmt.Errorf("mount %s (%s) on %s: %w", m.Source, m.Type, target, err)
	}
	if o.Flags&unix.MS_RDONLY != 0 {
		flags := o.Flags | unix.MS_REMOUNT
		if typ == "" {
			flags |= unix.MS_BIND
		}
		if err := unix.Mount("", target, "", flags, o.DataString()); err != nil {
			_ = unix.Unmount(target, unix.MNT_DETACH)
			return fmt.Errorf("remount %s read-only: %w", target, err)
		}
	}
	return nil
}

// Detached makes the single mount m without attaching it anywhere and
// returns an O_PATH-like handle on its root: the mount exists only as
// long as the handle (and whatever is opened beneath it) does, so a
// process that dies mid-way leaves no mount behind. Paths beneath it are
// reached through pathrs.FdPath(handle) or openat on its fd.
func Detached(m Mount) (*os.File, error) {
	o := ParseOptions(m.Options)
	var attr int
	if o.Flags&unix.MS_RDONLY != 0 {
		attr |= unix.MOUNT_ATTR_RDONLY
	}
	if o.Bind() || m.Type == "bind" {
		flags := unix.OPEN_TREE_CLONE | unix.OPEN_TREE_CLOEXEC
		if o.Flags&unix.MS_REC != 0 {
			flags |= unix.AT_RECURSIVE
		}
		fd, err := unix.OpenTree(unix.AT_FDCWD, m.Source, uint(flags))
		if err != nil {
			return nil, fmt.Errorf("clone mount of %s: %w", m.Source, err)
		}
		f := os.NewFile(uintptr(fd), m.Source)
		if attr != 0 {
			if err := unix.MountSetattr(fd, "", unix.AT_EMPTY_PATH, &unix.MountAttr{Attr_set: uint64(attr)}); err != nil {
				f.Close()
				return nil, fmt.Errorf("make the mount of %s read-only: %w", m.Source, err)
			}
		}
		return f, nil
	}
	if m.Type == "overlay" && longLowerdir(o.Data) {
		return detachedLongOverlay(m, o, attr)
	}
	return fsmount(m, o.Data, attr)
}

// fsmount makes a detached mount of m with data through fsconfig(2).
func fsmount(m Mount, data []string, attr int) (*os.File, error) {
	fsfd, err := unix.Fsopen(m.Type, unix.FSOPEN_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("fsopen %s: %w", m.Type, err)
	}
	defer unix.Close(fsfd)
	if err := unix.FsconfigSetString(fsfd, "source", m.Source); err != nil {
		return nil, fmt.Errorf("%s: source %q: %w", m.Type, m.Source, err)
	}
	for _, d := range data {
		k, v, ok := strings.Cut(d, "=")
		if ok {
			err = unix.FsconfigSetString(fsfd, k, v)
		} else {
			err = unix.FsconfigSetFlag(fsfd, k)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: option %q: %w", m.Type, d, err)
		}
	}
	if err := unix.FsconfigCreate(fsfd); err != nil {
		return nil, fmt.Errorf("create %s mount from %v: %w", m.Type, data, err)
	}
	fd, err := unix.Fsmount(fsfd, unix.FSMOUNT_CLOEXEC, attr)
	if err != nil {
		return nil, fmt.Errorf("fsmount %s: %w", m.Type, err)
	}
	return os.NewFile(uintptr(fd), m.Type), nil
}

// fsconfigMax is the longest value fsconfig(2) takes for one option (the
// kernel copies at most 256 bytes with the NUL): a lowerdir list of more
// than a few layers is longer.
const fsconfigMax = 255

func longLowerdir(data []string) bool {
	for _, d := range data {
		if v, ok := strings.CutPrefix(d, "lowerdir="); ok && len(v) > fsconfigMax {
			return true
		}
	}
	return false
}

// detachedLongOverlay mounts an overlay whose lowerdir list is too long
// for one fsconfig(2) value: one "lowerdir+" value per layer (Linux 6.8),
// or else with mount(2), whose data may be a page long, in a private mount
// namespace on a thread that dies afterwards, cloning the mount out with
// open_tree(2) so that it stays detached.
func detachedLongOverlay(m Mount, o Options, attr int) (*os.File, error) {
	var split []string
	for _, d := range o.Data {
		v, ok := strings.CutPrefix(d, "lowerdir=")
		if !ok {
			split = append(split, d)
			continue
		}
		for _, l := range splitLowerdir(v) {
			split = append(split, "lowerdir+="+l)
		}
	}
	f, err := fsmount(m, split, attr)
	if err == nil || !errors.Is(err, unix.EINVAL) {
		return f, err
	}
	err = ns.UnshareAndRun(unix.CLONE_NEWNS|unix.CLONE_FS, func() (err error) {
		f, err = mountCloned(m, o, attr)
		return err
	})
	return f, err
}

// mountCloned runs on a thread of its own mount namespace, thrown away
// afterwards.
func mountCloned(m Mount, o Options, attr int) (*os.File, error) {
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return nil, fmt.Errorf("make the private mount namespace private: %w", err)
	}
	// Any directory serves as the mount point: only this namespace sees it.
	target := os.TempDir()
	if err := unix.Mount(m.Source, target, m.Type, o.Flags&^unix.MS_RDONLY, o.DataString()); err != nil {
		return nil, fmt.Errorf("mount %s: %w", m.Type, err)
	}
	fd, err := unix.OpenTree(unix.AT_FDCWD, target, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("clone the %s mount: %w", m.Type, err)
	}
	f := os.NewFile(uintptr(fd), m.Type)
	if attr != 0 {
		if err := unix.MountSetattr(fd, "", unix.AT_EMPTY_PATH, &unix.MountAttr{Attr_set: uint64(attr)}); err != nil {
			f.Close()
			return nil, fmt.Errorf("make the %s mount read-only: %w", m.Type, err)
		}
	}
	return f, nil
}

// splitLowerdir splits overlay's "a:b:c" at the colons that are not
// escaped (`\:`), unescaping them.
func splitLowerdir(v string) []string {
	var dirs []string
	var cur strings.Builder
	for i := 0; i < len(v); i++ {
		switch {
		case v[i] == '\\' && i+1 < len(v):
			i++
			cur.WriteByte(v[i])
		case v[i] == ':':
			dirs = append(dirs, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(v[i])
		}
	}
	return append(dirs, cur.String())
}

// CloneTree clones the mount at path with everything mounted below it
// (open_tree(2), OPEN_TREE_CLONE|AT_RECURSIVE) into a detached tree;
// readOnly makes the clone read-only (recursively with recursive). The
// tree lives as long as the handle.
func CloneTree(path string, readOnly, recursive bool) (*os.File, error) {
	fd, err := unix.OpenTree(unix.AT_FDCWD, path, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC|unix.AT_RECURSIVE)
	if err != nil {
		return nil, fmt.Errorf("clone the mounts of %s: %w", path, err)
	}
	f := os.NewFile(uintptr(fd), path)
	if readOnly {
		flags := unix.AT_EMPTY_PATH
		if recursive {
			flags |= unix.AT_RECURSIVE
		}
		if err := unix.MountSetattr(fd, "", uint(flags), &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY}); err != nil {
			f.Close()
			return nil, fmt.Errorf("make the clone of %s read-only: %w", path, err)
		}
	}
	return f, nil
}

// MoveOnto attaches the detached tree onto the handle dst (an O_PATH
// handle from pathrs: no path is resolved again).
func MoveOnto(tree, dst *os.File) error {
	if err := unix.MoveMount(int(tree.Fd()), "", int(dst.Fd()), "", unix.MOVE_MOUNT_F_EMPTY_PATH|unix.MOVE_MOUNT_T_EMPTY_PATH); err != nil {
		return fmt.Errorf("attach a mount: %w", err)
	}
	return nil
}

// MakePrivate makes every mount of the calling thread's mount namespace
// private (after unshare: nothing it mounts then reaches the host).
func MakePrivate() error {
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make the mount namespace private: %w", err)
	}
	return nil
}
