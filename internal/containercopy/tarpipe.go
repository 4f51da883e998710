package containercopy

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/berth-project/berth/internal/errdefs"
)

// xattrRecord prefixes the PAX records that carry extended attributes.
const xattrRecord = "SCHILY.xattr."

// editFunc changes a header on its way through a tarPipe; keep false drops
// the entry.
type editFunc func(hdr *tar.Header) (keep bool, err error)

// tarPipe re-writes the tar read from tr (after first, a header already
// read from it, when not nil) through edit, on a goroutine, into the
// returned reader. wait returns the goroutine's error once the reader is
// closed or drained; an error from edit or from reading tr comes first.
type tarPipe struct {
	*io.PipeReader
	done chan error
}

func newTarPipe(tr *tar.Reader, first *tar.Header, edit editFunc) *tarPipe {
	pr, pw := io.Pipe()
	p := &tarPipe{PipeReader: pr, done: make(chan error, 1)}
	go func() {
		err := copyTar(tar.NewWriter(pw), tr, first, edit)
		pw.CloseWithError(err)
		p.done <- err
	}()
	return p
}

// finish closes the reader (unblocking the writer) and returns the writer's
// error, unless it only failed because the reader went away.
func (p *tarPipe) finish() error {
	p.PipeReader.Close()
	err := <-p.done
	if errors.Is(err, io.ErrClosedPipe) {
		return nil
	}
	return err
}

func copyTar(tw *tar.Writer, tr *tar.Reader, hdr *tar.Header, edit editFunc) error {
	for {
		if hdr == nil {
			var err error
			hdr, err = tr.Next()
			if errors.Is(err, io.EOF) {
				return tw.Close()
			}
			if err != nil {
				return fmt.Errorf("read tar: %w", err)
			}
		}
		if hdr.Typeflag == tar.TypeXGlobalHeader {
			hdr = nil
			continue
		}
		name := hdr.Name
		keep, err := edit(hdr)
		if err != nil {
			return fmt.Errorf("entry %q: %w", name, err)
		}
		if keep {
			hdr.Format = tar.FormatPAX
			hdr.Xattrs = nil //nolint:staticcheck // cleared so that PAXRecords alone speak
			hdr.PAXRecords = xattrRecords(hdr.PAXRecords)
			if err := tw.WriteHeader(hdr); err != nil {
				return fmt.Errorf("entry %q: %w", name, err)
			}
			if _, err := io.Copy(tw, tr); err != nil {
				return fmt.Errorf("entry %q: %w", name, err)
			}
		}
		hdr = nil
	}
}

// xattrRecords keeps the extended attributes of a header's PAX records
// (the others describe the header itself and are written anew).
func xattrRecords(recs map[string]string) map[string]string {
	var out map[string]string
	for k, v := range recs {
		if strings.HasPrefix(k, xattrRecord) {
			if out == nil {
				out = map[string]string{}
			}
			out[k] = v
		}
	}
	return out
}

// checkName refuses a tar entry name (or hard link target) that would leave
// the directory it is extracted to: absolute, or climbing with "..". It
// returns the name cleaned ("." for the directory itself).
func checkName(name string) (string, error) {
	if name == "" {
		return "", fmt.Errorf("empty name: %w", errdefs.ErrInvalidArgument)
	}
	if strings.HasPrefix(name, "/") {
		return "", fmt.Errorf("absolute name %q refused: %w", name, errdefs.ErrInvalidArgument)
	}
	for _, c := range strings.Split(name, "/") {
		if c == ".." {
			return "", fmt.Errorf("name %q climbs out with \"..\": %w", name, errdefs.ErrInvalidArgument)
		}
	}
	return path.Clean(name), nil
}

// rebase renames name (clean) from below oldBase to below newBase, as
// docker's RebaseArchiveEntries does; oldBase "." holds every name.
func rebase(name, oldBase, newBase string) string {
	switch {
	case oldBase == ".":
		return path.Join(newBase, name)
	case name == oldBase:
		return newBase
	case strings.HasPrefix(name, oldBase+"/"):
		return newBase + name[len(oldBase):]
	}
	return name
}
