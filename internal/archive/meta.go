package archive

import (
	"archive/tar"
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/linux/pathrs"
)

// xattrPrefix marks the PAX records that carry extended attributes.
const xattrPrefix = "SCHILY.xattr."

// checkXattrs refuses xattrs that only the overlay snapshotter may write: a
// layer forging trusted.overlay.* (or user.overlay.*, which overlay reads
// instead when mounted with userxattr, as a rootless engine does) could
// redirect lookups across layers.
func checkXattrs(hdr *tar.Header) error {
	for k := range hdr.PAXRecords {
		if strings.HasPrefix(k, xattrPrefix+"trusted.overlay.") || strings.HasPrefix(k, xattrPrefix+"user.overlay.") {
			return fmt.Errorf("xattr %q refused: %w", strings.TrimPrefix(k, xattrPrefix), errdefs.ErrInvalidArgument)
		}
	}
	return nil
}

// setOwnerMode sets the owner, then the mode (chown clears set-id bits),
// then the xattrs of a node that is not a symlink.
func setOwnerMode(n node) error {
	if err := unix.Fchownat(n.dir, n.name, n.hdr.Uid, n.hdr.Gid, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("chown: %w", err)
	}
	// Fchmodat follows a symlink, but n was just made and is not one.
	if err := unix.Fchmodat(n.dir, n.name, uint32(n.hdr.Mode)&0o7777, 0); err != nil {
		return fmt.Errorf("chmod: %w", err)
	}
	return setXattrs(n)
}

// setXattrs sets the entry's xattrs on the node, not following a symlink.
func setXattrs(n node) error {
	p := nodePath(n)
	for k, v := range n.hdr.PAXRecords {
		name, ok := strings.CutPrefix(k, xattrPrefix)
		if !ok {
			continue
		}
		if err := unix.Lsetxattr(p, name, []byte(v), 0); err != nil {
			return fmt.Errorf("set xattr %q: %w", name, err)
		}
	}
	return nil
}

// setTimes sets the access and modification times of the node, not
// following a symlink.
func setTimes(n node) error {
	ts := []unix.Timespec{timespec(n.hdr.AccessTime), timespec(n.hdr.ModTime)}
	if n.hdr.AccessTime.IsZero() {
		ts[0] = ts[1]
	}
	if err := unix.UtimesNanoAt(n.dir, n.name, ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("set times: %w", err)
	}
	return nil
}

// setDirTimes sets the times of the layer's directories, once their content
// is in place. A directory removed since (by a later whiteout) is skipped.
func (a *applier) setDirTimes() error {
	for _, d := range a.dirTimes {
		f, _, err := a.tree.openDir(d.name, false)
		if errors.Is(err, unix.ENOENT) || errors.Is(err, errdefs.ErrInvalidArgument) {
			continue
		}
		if err != nil {
			return fmt.Errorf("entry %q: %w", d.hdr.Name, err)
		}
		ts := []unix.Timespec{timespec(d.hdr.AccessTime), timespec(d.hdr.ModTime)}
		if d.hdr.AccessTime.IsZero() {
			ts[0] = ts[1]
		}
		err = unix.UtimesNano(pathrs.FdPath(f), ts)
		f.Close()
		if err != nil {
			return fmt.Errorf("entry %q: set times: %w", d.hdr.Name, err)
		}
	}
	return nil
}

// nodePath names the node through its parent's descriptor, so that only
// its last component is looked up, and not followed by l* calls.
func nodePath(n node) string {
	return fmt.Sprintf("/proc/self/fd/%d/%s", n.dir, n.name)
}

// timespec converts t, leaving the time as it is when t is zero.
func timespec(t time.Time) unix.Timespec {
	if t.IsZero() {
		return unix.Timespec{Nsec: unix.UTIME_OMIT}
	}
	return unix.Timespec{Sec: t.Unix(), Nsec: int64(t.Nanosecond())}
}
