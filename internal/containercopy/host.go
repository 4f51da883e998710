package containercopy

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/archive"
	"github.com/berth-project/berth/internal/errdefs"
)

// maxDestLinks bounds the symlinks followed at the end of a host
// destination, as docker's CLI does.
const maxDestLinks = 10

// TarOptions tunes TarPath.
type TarOptions struct {
	// FollowLink copies what a symlink at the host path points to, under
	// the symlink's name: docker cp -L.
	FollowLink bool
	// Dest is the destination in the container, from StatDest.
	Dest Dest
}

// TarPath starts a tar of the host path src for a copy into a container and
// returns it with the directory of the container to extract it to (In's
// dst). The tar's top entry is named by docker's rules for opts.Dest (see
// place): copying the file "a" to "/x/b" where "/x/b" does not exist
// yields the entry "b" to extract in "/x". src's own symlinks are written
// as they are (a final one followed with FollowLink, or when src ends in
// "/" or "/."); "dir/." copies the contents of dir.
//
// Errors about src and the destination come back at once; an error while
// the tar is written is the reader's error. Closing the reader stops the
// writing.
func TarPath(ctx context.Context, src string, opts TarOptions) (io.ReadCloser, string, error) {
	f, srcBase, isDir, err := openHostSource(src, opts.FollowLink)
	if err != nil {
		return nil, "", err
	}
	plc, err := place(srcBase, isDir, opts.Dest)
	if err != nil {
		f.Close()
		return nil, "", err
	}
	name := srcBase
	if plc.name != "" {
		name = plc.name
	}
	pr, pw := io.Pipe()
	go func() {
		defer f.Close()
		t := newTarWriter(ctx, pw)
		err := t.add(f, name)
		if err == nil {
			err = t.close()
		}
		if err != nil {
			err = fmt.Errorf("copy %s: %w", src, err)
		}
		pw.CloseWithError(err)
	}()
	return pr, plc.dir, nil
}

// openHostSource opens the host path src (O_PATH) for TarPath and returns
// the name of its top entry and whether it is a directory.
func openHostSource(src string, followLink bool) (*os.File, string, bool, error) {
	clean := filepath.Clean(src)
	contents := clean == "/" || endsInDot(src)
	follow := contents || strings.HasSuffix(src, "/")
	flags := unix.O_PATH | unix.O_CLOEXEC
	if !follow && !followLink {
		flags |= unix.O_NOFOLLOW
	}
	fd, err := unix.Open(clean, flags, 0)
	if err != nil {
		if errors.Is(err, unix.ENOENT) {
			return nil, "", false, fmt.Errorf("lstat %s: no such file or directory: %w", src, errdefs.ErrNotFound)
		}
		return nil, "", false, fmt.Errorf("open %s: %w", src, err)
	}
	f := os.NewFile(uintptr(fd), clean)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		f.Close()
		return nil, "", false, fmt.Errorf("stat %s: %w", src, err)
	}
	isDir := st.Mode&unix.S_IFMT == unix.S_IFDIR
	if follow && !isDir {
		f.Close()
		return nil, "", false, fmt.Errorf("%s: not a directory: %w", src, errdefs.ErrInvalidArgument)
	}
	base := filepath.Base(clean)
	if contents {
		base = "."
	}
	return f, base, isDir, nil
}

// ExtractTo extracts a tar written by Out to the host path dst, by docker's
// rules (see place): into dst when it is an existing directory, else as
// dst, in its parent, which must exist. A final symlink at dst is followed
// on the host (the copy goes where it points), as with docker.
//
// The tar comes from a container and is treated as hostile: its names must
// stay below where they are extracted (else errdefs.ErrInvalidArgument),
// symlinks it makes are never followed out of there, device nodes are
// refused, and no directory is replaced by a file or the reverse
// (errdefs.ErrFailedPrecondition). What is extracted belongs to the
// caller, with the modes of the tar; only root keeps file capabilities.
func ExtractTo(ctx context.Context, dst string, r io.Reader) error {
	tr := tar.NewReader(r)
	first, err := tr.Next()
	if errors.Is(err, io.EOF) {
		return fmt.Errorf("copy to %s: empty archive: %w", dst, errdefs.ErrInvalidArgument)
	}
	if err != nil {
		return fmt.Errorf("copy to %s: read tar: %w", dst, err)
	}
	top, err := checkName(first.Name)
	if err != nil {
		return fmt.Errorf("copy to %s: entry %q: %w", dst, first.Name, err)
	}
	srcBase, _, _ := strings.Cut(top, "/")
	isDir := first.Typeflag == tar.TypeDir || top != srcBase
	d, err := hostDest(dst)
	if err != nil {
		return err
	}
	plc, err := place(srcBase, isDir, d)
	if err != nil {
		return err
	}
	uid, gid, root := os.Geteuid(), os.Getegid(), os.Geteuid() == 0
	pipe := newTarPipe(tr, first, func(hdr *tar.Header) (bool, error) {
		name, err := checkName(hdr.Name)
		if err != nil {
			return false, err
		}
		hdr.Name = plc.rename(srcBase, name)
		if hdr.Typeflag == tar.TypeLink {
			link, err := checkName(hdr.Linkname)
			if err != nil {
				return false, fmt.Errorf("hard link target: %w", err)
			}
			hdr.Linkname = plc.rename(srcBase, link)
		}
		hdr.Uid, hdr.Gid = uid, gid
		if !root {
			hdr.PAXRecords = nil
		}
		return true, nil
	})
	_, applyErr := archive.Apply(ctx, plc.dir, pipe, archive.ApplyOptions{
		MaxBytes:             -1,
		NoWhiteouts:          true,
		NoOverwriteDirNonDir: true,
	})
	if err := pipe.finish(); err != nil {
		return fmt.Errorf("copy to %s: %w", dst, err)
	}
	if applyErr != nil {
		return fmt.Errorf("copy to %s: %w", dst, applyErr)
	}
	return nil
}

// hostDest describes the host destination p as docker's CLI does
// (CopyInfoDestinationPath): final symlinks are followed, a missing p
// needs an existing parent directory, and an existing p must be a
// directory or a regular file.
func hostDest(p string) (Dest, error) {
	d := Dest{Path: p}
	for links := 0; ; links++ {
		var st unix.Stat_t
		err := unix.Lstat(d.Path, &st)
		if errors.Is(err, unix.ENOENT) {
			parent, _ := splitDirEntry(d.Path)
			var pst unix.Stat_t
			if err := unix.Stat(parent, &pst); err != nil {
				if errors.Is(err, unix.ENOENT) {
					return Dest{}, fmt.Errorf("copy to %s: directory %s does not exist: %w", p, parent, errdefs.ErrNotFound)
				}
				return Dest{}, fmt.Errorf("copy to %s: stat %s: %w", p, parent, err)
			}
			if pst.Mode&unix.S_IFMT != unix.S_IFDIR {
				return Dest{}, fmt.Errorf("copy to %s: %s is not a directory: %w", p, parent, errdefs.ErrInvalidArgument)
			}
			return d, nil
		}
		if err != nil {
			return Dest{}, fmt.Errorf("copy to %s: %w", p, err)
		}
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFDIR, unix.S_IFREG:
			d.Exists, d.IsDir = true, st.Mode&unix.S_IFMT == unix.S_IFDIR
			return d, nil
		case unix.S_IFLNK:
		default:
			return Dest{}, fmt.Errorf("copy to %s: must be a directory or a regular file: %w", p, errdefs.ErrInvalidArgument)
		}
		if links == maxDestLinks {
			return Dest{}, fmt.Errorf("copy to %s: too many symlinks: %w", p, errdefs.ErrInvalidArgument)
		}
		target, err := os.Readlink(d.Path)
		if err != nil {
			return Dest{}, fmt.Errorf("copy to %s: %w", p, err)
		}
		if !path.IsAbs(target) {
			parent, _ := splitDirEntry(d.Path)
			target = path.Join(parent, target)
		}
		d.Path = target
	}
}
