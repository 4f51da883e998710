package containercopy

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/archive"
	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/linux/pathrs"
)

// InOptions tunes In.
type InOptions struct {
	// Archive keeps the owners the tar names (docker cp -a); otherwise
	// every entry is owned by UID:GID.
	Archive bool
	// UID and GID own what is copied in without Archive: the container's
	// user and its primary group, which the engine resolves (0:0, root,
	// for a container without a user).
	UID, GID int
	// AllowOverwriteDirWithFile lets an entry replace a directory with a
	// non-directory or the reverse; by default such an entry is an error
	// (errdefs.ErrFailedPrecondition), as with docker cp.
	AllowOverwriteDirWithFile bool
	// MaxBytes bounds the tar read and the bytes written, as
	// archive.ApplyOptions.MaxBytes (zero: archive.DefaultMaxBytes, negative:
	// no bound).
	MaxBytes int64
}

// In extracts the tar read from r into the directory dst inside rootfs. dst
// is resolved inside rootfs, a final symlink followed (so that a link to a
// directory receives the copy, as in docker); it must exist (else a
// *FileNotFoundError) and be a directory (else errdefs.ErrInvalidArgument).
//
// Entry names are relative to dst: absolute names and names with ".." are
// refused with errdefs.ErrInvalidArgument. Every entry is then resolved
// inside rootfs by archive.Apply, so a symlink on the way (the container's
// or the tar's own) is followed as the container would follow it and never
// leads out of rootfs. Names are taken literally (".wh." names are files,
// not whiteouts), device nodes are made (that needs CAP_MKNOD), and the
// entry "." (dst itself) is skipped. On error what was extracted so far
// stays.
func In(ctx context.Context, rootfs, dst string, r io.Reader, opts InOptions) error {
	c := parseContainerPath(dst)
	prefix, err := extractionPoint(rootfs, c)
	if err != nil {
		return err
	}
	pipe := newTarPipe(tar.NewReader(r), nil, func(hdr *tar.Header) (bool, error) {
		name, err := checkName(hdr.Name)
		if err != nil || name == "." {
			return false, err
		}
		hdr.Name = prefix + name
		if hdr.Typeflag == tar.TypeLink {
			link, err := checkName(hdr.Linkname)
			if err != nil {
				return false, fmt.Errorf("hard link target: %w", err)
			}
			hdr.Linkname = prefix + link
		}
		if !opts.Archive {
			hdr.Uid, hdr.Gid = opts.UID, opts.GID
		}
		return true, nil
	})
	_, applyErr := archive.Apply(ctx, rootfs, pipe, archive.ApplyOptions{
		MaxBytes:             opts.MaxBytes,
		AllowDevices:         true,
		NoWhiteouts:          true,
		NoOverwriteDirNonDir: !opts.AllowOverwriteDirWithFile,
	})
	if err := pipe.finish(); err != nil {
		return fmt.Errorf("copy to %s in container: %w", dst, err)
	}
	if applyErr != nil {
		return fmt.Errorf("copy to %s in container: %w", dst, applyErr)
	}
	return nil
}

// extractionPoint resolves the directory c inside rootfs and returns its
// canonical path relative to rootfs, with a trailing "/" ("" for the root),
// to put before each entry's name.
func extractionPoint(rootfs string, c containerPath) (string, error) {
	root, err := pathrs.OpenRoot(rootfs)
	if err != nil {
		return "", fmt.Errorf("copy to %s in container: %w", c.given, err)
	}
	defer root.Close()
	f, st, err := lookup(root, c, true)
	if err != nil {
		return "", lookupError(c, err)
	}
	defer f.Close()
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return "", fmt.Errorf("copy to %s in container: extraction point is not a directory: %w", c.given, errdefs.ErrInvalidArgument)
	}
	name, err := nameInRoot(root, f)
	if err != nil {
		return "", fmt.Errorf("copy to %s in container: %w", c.given, err)
	}
	if name = strings.TrimPrefix(name, "/"); name != "" {
		name += "/"
	}
	return name, nil
}
