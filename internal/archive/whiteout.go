package archive

import (
	"errors"
	"fmt"
	"path"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/errdefs"
)

const (
	whiteoutPrefix = ".wh."
	whiteoutMeta   = ".wh..wh."     // aufs metadata (.wh..wh.plnk, ...): ignored
	whiteoutOpaque = ".wh..wh..opq" // the directory holding it is opaque
	overlayOpaque  = "trusted.overlay.opaque"
)

// whiteout applies the whiteout entry base found in the directory dir.
func (a *applier) whiteout(dir, base string) error {
	switch {
	case base == whiteoutOpaque:
		if a.opts.OverlayWhiteouts {
			return a.overlayOpaque(dir)
		}
		return a.clearOpaque(dir)
	case strings.HasPrefix(base, whiteoutMeta):
		return nil
	}
	victim := strings.TrimPrefix(base, whiteoutPrefix)
	if victim == "" || victim == "." || victim == ".." {
		return fmt.Errorf("whiteout of %q: %w", victim, errdefs.ErrInvalidArgument)
	}
	parent, canon, err := a.tree.openDir(dir, a.opts.OverlayWhiteouts)
	if errors.Is(err, unix.ENOENT) {
		return nil // nothing to delete
	}
	if err != nil {
		return err
	}
	defer parent.Close()
	if err := removeAll(int(parent.Fd()), victim); err != nil {
		return err
	}
	if !a.opts.OverlayWhiteouts {
		return nil
	}
	a.markSeen(path.Join(canon, victim))
	if err := unix.Mknodat(int(parent.Fd()), victim, unix.S_IFCHR, 0); err != nil {
		return fmt.Errorf("overlay whiteout %q: %w", victim, err)
	}
	return nil
}

// clearOpaque removes from dir what this layer did not put there.
func (a *applier) clearOpaque(dir string) error {
	d, canon, err := a.tree.openDirRead(dir)
	if errors.Is(err, unix.ENOENT) {
		return nil
	}
	if err != nil {
		return err
	}
	defer d.Close()
	a.markSeen(canon)
	names, err := d.Readdirnames(-1)
	if err != nil {
		return fmt.Errorf("opaque %q: %w", dir, err)
	}
	for _, name := range names {
		if _, ok := a.seen[path.Join(canon, name)]; ok {
			continue
		}
		if err := removeAll(int(d.Fd()), name); err != nil {
			return fmt.Errorf("opaque %q: %w", dir, err)
		}
	}
	return nil
}

// overlayOpaque marks dir opaque for overlayfs.
func (a *applier) overlayOpaque(dir string) error {
	p, canon, err := a.tree.openDir(dir, true)
	if err != nil {
		return err
	}
	defer p.Close()
	a.markSeen(canon)
	fd, err := unix.Openat(int(p.Fd()), ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("opaque %q: %w", dir, err)
	}
	defer unix.Close(fd)
	if err := unix.Fsetxattr(fd, overlayOpaque, []byte("y"), 0); err != nil {
		return fmt.Errorf("opaque %q: set %s: %w", dir, overlayOpaque, err)
	}
	return nil
}
