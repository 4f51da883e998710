package containercopy

import (
	"context"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/linux/pathrs"
)

// OutOptions tunes Out.
type OutOptions struct {
	// FollowLink copies what a final symlink points to (inside the
	// container), under the symlink's name: docker cp -L.
	FollowLink bool
}

// Out writes to w a tar of path inside rootfs, as docker cp does: the top
// entry is named after the path's last component ("dir/x" for the file x of
// "/a/dir"), or is "./" for the contents of a directory ("dir/." or "/"),
// the entries below it following. Symlinks are written as they are and
// resolved only to reach path, inside rootfs, never on the host. A missing
// path is a *FileNotFoundError (errdefs.ErrNotFound).
func Out(ctx context.Context, rootfs, p string, opts OutOptions, w io.Writer) error {
	c := parseContainerPath(p)
	root, err := pathrs.OpenRoot(rootfs)
	if err != nil {
		return fmt.Errorf("copy %s from container: %w", p, err)
	}
	defer root.Close()
	f, err := openSource(root, c, opts.FollowLink)
	if err != nil {
		return err
	}
	defer f.Close()
	t := newTarWriter(ctx, w)
	if err := t.add(f, c.tarName()); err != nil {
		return fmt.Errorf("copy %s from container: %w", p, err)
	}
	if err := t.close(); err != nil {
		return fmt.Errorf("copy %s from container: %w", p, err)
	}
	return nil
}

// openSource returns an O_PATH handle on what a copy of c reads: c itself,
// or what it points to when it is a symlink and followLink is set.
func openSource(root *pathrs.Root, c containerPath, followLink bool) (*os.File, error) {
	f, st, err := lookup(root, c, c.follow)
	if err != nil {
		return nil, lookupError(c, err)
	}
	if !followLink || st.Mode&unix.S_IFMT != unix.S_IFLNK {
		return f, nil
	}
	f.Close()
	f, _, err = lookup(root, c, true)
	if err != nil {
		return nil, lookupError(c, err)
	}
	return f, nil
}
