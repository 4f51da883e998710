package containercopy

import (
	"errors"
	"fmt"
	"os"

	"github.com/berth-project/berth/internal/errdefs"
)

// Dest is the destination of a copy as docker's CLI sees it before it
// copies: where it is, whether something is there, and whether that is a
// directory.
type Dest struct {
	Path   string // the destination as given, or what its final symlink points to
	Exists bool
	IsDir  bool
}

// StatDest describes the destination p of a copy into the container at
// rootfs, as docker's CLI does: a final symlink is followed (the copy goes
// where it points), a missing destination is no error (its parent may
// exist), and an existing one must be a directory or a regular file.
func StatDest(rootfs, p string) (Dest, error) {
	d := Dest{Path: p}
	st, err := Stat(rootfs, p)
	if err == nil && st.Mode&os.ModeSymlink != 0 {
		d.Path = st.LinkTarget
		st, err = Stat(rootfs, d.Path)
	}
	if errors.Is(err, errdefs.ErrNotFound) {
		return d, nil
	}
	if err != nil {
		return Dest{}, err
	}
	if !st.Mode.IsDir() && !st.Mode.IsRegular() {
		return Dest{}, fmt.Errorf("destination %q must be a directory or a regular file: %w", p, errdefs.ErrInvalidArgument)
	}
	d.Exists, d.IsDir = true, st.Mode.IsDir()
	return d, nil
}

// placement is where a copy lands: the directory to extract to, and the
// name its top entry must take there ("" to keep the source's).
type placement struct {
	dir, name string
}

// place applies docker's rules (PrepareArchiveCopy) to a source whose top
// entry is named srcBase ("." for the contents of a directory) and is a
// directory or not, copied to dst:
//
//   - dst is an existing directory: the source lands inside it, under its
//     own name (its contents, for "dir/.");
//   - dst exists and is a file: a directory cannot replace it; a file does,
//     renamed to dst's name;
//   - dst does not exist: the source takes dst's name in dst's parent,
//     except that a file cannot be copied to "dst/" (a directory that does
//     not exist).
func place(srcBase string, srcIsDir bool, dst Dest) (placement, error) {
	dstDir, dstBase := splitDirEntry(dst.Path)
	switch {
	case dst.Exists && dst.IsDir:
		return placement{dir: dst.Path}, nil
	case dst.Exists && srcIsDir:
		return placement{}, fmt.Errorf("cannot copy a directory to %s, an existing file: %w", dst.Path, errdefs.ErrFailedPrecondition)
	case !dst.Exists && !srcIsDir && assertsDir(dst.Path):
		return placement{}, fmt.Errorf("destination directory %s does not exist: %w", dst.Path, errdefs.ErrNotFound)
	}
	if dstBase == "." || dstBase == "/" {
		return placement{}, fmt.Errorf("cannot copy to %s: %w", dst.Path, errdefs.ErrInvalidArgument)
	}
	if srcBase == dstBase {
		return placement{dir: dstDir}, nil
	}
	return placement{dir: dstDir, name: dstBase}, nil
}

// rename gives the entry name (clean) the name it takes in the placement:
// srcBase, the top entry, and what is below it are renamed.
func (p placement) rename(srcBase, name string) string {
	if p.name == "" {
		return name
	}
	return rebase(name, srcBase, p.name)
}
