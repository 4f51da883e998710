package imagearchive

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"path"
	"time"

	"github.com/berth-project/berth/internal/content"
	"github.com/berth-project/berth/internal/errdefs"
	digest "github.com/opencontainers/go-digest"
)

// epoch is the modification time of every member Save writes, so that the
// same images give the same archive.
var epoch = time.Unix(0, 0).UTC()

// tarWriter writes an archive's members, each blob once, with their parent
// directories before them.
type tarWriter struct {
	ctx  context.Context
	tw   *tar.Writer
	dirs map[string]bool
	done map[string]bool // member names written
}

func newTarWriter(ctx context.Context, w io.Writer) *tarWriter {
	return &tarWriter{ctx: ctx, tw: tar.NewWriter(w), dirs: map[string]bool{}, done: map[string]bool{}}
}

func (t *tarWriter) mkdirs(name string) error {
	dir := path.Dir(name)
	if dir == "." || t.dirs[dir] {
		return nil
	}
	if err := t.mkdirs(dir); err != nil {
		return err
	}
	t.dirs[dir] = true
	return t.tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: dir + "/", Mode: 0o755, ModTime: epoch, Format: tar.FormatPAX})
}

// file writes a member of size bytes read from r, which must hold exactly
// that many.
func (t *tarWriter) file(name string, size int64, r io.Reader) error {
	if err := t.ctx.Err(); err != nil {
		return err
	}
	if err := t.mkdirs(name); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	hdr := &tar.Header{Typeflag: tar.TypeReg, Name: name, Size: size, Mode: 0o644, ModTime: epoch, Format: tar.FormatPAX}
	if err := t.tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	n, err := io.Copy(t.tw, ctxReader{t.ctx, r})
	if err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	if n != size {
		return fmt.Errorf("write %s: %d bytes, want %d: %w", name, n, size, errdefs.ErrFailedPrecondition)
	}
	t.done[name] = true
	return nil
}

func (t *tarWriter) bytes(name string, data []byte) error {
	return t.file(name, int64(len(data)), bytes.NewReader(data))
}

// blob copies the committed blob d, of size bytes, to blobs/sha256/<hex>,
// checking on the way that the store still holds what d names.
func (t *tarWriter) blob(cs *content.Store, d digest.Digest, size int64) error {
	name := blobName(d)
	if t.done[name] {
		return nil
	}
	info, err := cs.Info(d)
	if err != nil {
		return err
	}
	if info.Size != size {
		return fmt.Errorf("blob %s: %d bytes in the store, %d in its descriptor: %w", d, info.Size, size, errdefs.ErrFailedPrecondition)
	}
	rc, err := cs.Open(d)
	if err != nil {
		return err
	}
	defer rc.Close()
	v := d.Verifier()
	if err := t.file(name, size, io.TeeReader(rc, v)); err != nil {
		return err
	}
	if !v.Verified() {
		return fmt.Errorf("blob %s: the store's copy does not match its digest: %w", d, errdefs.ErrFailedPrecondition)
	}
	return nil
}

func (t *tarWriter) close() error { return t.tw.Close() }

func blobName(d digest.Digest) string { return "blobs/" + d.Algorithm().String() + "/" + d.Encoded() }

// ctxReader stops a long copy when its context ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
