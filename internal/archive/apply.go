package archive

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/berth-project/berth/internal/errdefs"
)

// applier holds the state of one Apply.
type applier struct {
	opts   ApplyOptions
	tree   *tree
	budget budget
	buf    []byte
	// seen holds every name this layer has put in place (and their
	// parents): an opaque directory keeps them and removes the rest.
	seen     map[string]struct{}
	dirTimes []dirTime // set last, once the directories are filled
}

// Apply applies the layer tar read from r (already decompressed: see
// Decompress) to the directory root and returns the number of bytes read
// from r, all of it, up to the end of the stream (so that a caller hashing r
// sees the whole diffID).
//
// Every entry is resolved beneath root without following symlinks; an entry
// that would reach outside root is refused with errdefs.ErrInvalidArgument
// and an error naming it. On error root is left half applied: the caller
// discards it.
func Apply(ctx context.Context, root string, r io.Reader, opts ApplyOptions) (int64, error) {
	t, err := openTree(root)
	if err != nil {
		return 0, fmt.Errorf("apply layer: %w", err)
	}
	defer t.close()
	a := &applier{
		opts:   opts,
		tree:   t,
		budget: budget{max: opts.maxBytes()},
		buf:    make([]byte, 128<<10),
		seen:   map[string]struct{}{},
	}
	cr := &countingReader{r: r, b: &a.budget}
	tr := tar.NewReader(cr)
	for {
		if err := ctx.Err(); err != nil {
			return a.budget.read, fmt.Errorf("apply layer to %s: %w", root, err)
		}
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return a.budget.read, fmt.Errorf("apply layer to %s: read tar: %w", root, err)
		}
		if err := a.entry(hdr, tr); err != nil {
			return a.budget.read, fmt.Errorf("apply layer to %s: entry %q: %w", root, hdr.Name, err)
		}
	}
	if _, err := io.CopyBuffer(io.Discard, cr, a.buf); err != nil {
		return a.budget.read, fmt.Errorf("apply layer to %s: read past the tar end: %w", root, err)
	}
	if err := a.setDirTimes(); err != nil {
		return a.budget.read, fmt.Errorf("apply layer to %s: %w", root, err)
	}
	return a.budget.read, nil
}

// entry applies one tar entry.
func (a *applier) entry(hdr *tar.Header, content io.Reader) error {
	if hdr.Typeflag == tar.TypeXGlobalHeader {
		return nil
	}
	name, err := cleanName(hdr.Name)
	if err != nil {
		return err
	}
	dir, base := path.Dir(name), path.Base(name)
	if strings.HasPrefix(base, whiteoutPrefix) && !a.opts.NoWhiteouts {
		return a.whiteout(dir, base)
	}
	if name == "." {
		if hdr.Typeflag != tar.TypeDir {
			return fmt.Errorf("the root can only be a directory: %w", errdefs.ErrInvalidArgument)
		}
		return nil // the root's own metadata belongs to the snapshot
	}
	if err := checkXattrs(hdr); err != nil {
		return err
	}
	parent, canon, err := a.tree.openDir(dir, true)
	if err != nil {
		return err
	}
	defer parent.Close()
	// From here on the entry is known by its canonical name: where it
	// lands once the symlinks of its parents are resolved.
	name = path.Join(canon, base)
	n := node{dir: int(parent.Fd()), name: base, hdr: hdr}
	switch hdr.Typeflag {
	case tar.TypeDir:
		err = a.mkdir(n, name)
	case tar.TypeReg, '\x00':
		err = a.writeFile(n, content)
	case tar.TypeSymlink:
		err = a.symlink(n)
	case tar.TypeLink:
		err = a.link(n, name)
	case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		err = a.mknod(n)
	default:
		err = fmt.Errorf("unsupported tar type %q: %w", hdr.Typeflag, errdefs.ErrNotImplemented)
	}
	if err != nil {
		return err
	}
	a.markSeen(name)
	return nil
}

// markSeen records name (canonical) and its parents as put in place by this
// layer.
func (a *applier) markSeen(name string) {
	for name != "." {
		if _, ok := a.seen[name]; ok {
			return
		}
		a.seen[name] = struct{}{}
		name = path.Dir(name)
	}
}
