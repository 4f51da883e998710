package registry

import (
	"context"
	"fmt"
	"hash"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/berth-project/berth/internal/content"
	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/reference"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// FetchBlob streams the blob desc from ref's repository into w, checking its
// size and digest. On a mismatch w has already had the bad bytes; the error
// (InvalidArgument) tells the caller to discard them. Ingest is the safer
// way into the content store. Mirrors are tried first (see Registries).
func (c *Client) FetchBlob(ctx context.Context, ref reference.Reference, desc ocispec.Descriptor, w io.Writer) error {
	rc, err := c.open(ctx, ref, desc, 0)
	if err != nil {
		return err
	}
	defer rc.Close()
	vr := &verifier{r: io.LimitReader(rc, desc.Size+1), h: desc.Digest.Algorithm().Hash(), desc: desc}
	if _, err := io.Copy(w, vr); err != nil {
		return fmt.Errorf("blob %s: %w", desc.Digest, err)
	}
	return vr.check()
}

// Ingest puts the blob desc from ref's repository into store, unless it is
// there already. An ingest interrupted earlier resumes at its offset with a
// Range request (from the start if the registry ignores Range); the store
// verifies size and digest and commits atomically. Mirrors are tried first
// (see Registries).
func (c *Client) Ingest(ctx context.Context, store *content.Store, ref reference.Reference, desc ocispec.Descriptor) error {
	return c.IngestProgress(ctx, store, ref, desc, nil)
}

// IngestProgress is Ingest, calling progress (if not nil) with the bytes
// of the blob stored so far as they arrive, a resumed ingest's offset
// included.
//
// A body that breaks off (the connection reset or closed mid-blob) is
// resumed where it stopped, as often as Options.Backoff retries a request;
// a request that fails outright has had its retries in the transport.
func (c *Client) IngestProgress(ctx context.Context, store *content.Store, ref reference.Reference, desc ocispec.Descriptor, progress func(current int64)) error {
	if _, err := store.Info(desc.Digest); err == nil {
		return nil
	}
	backoff := c.opts.Backoff
	for {
		reading := false
		err := store.Ingest(desc.Digest.String(), desc.Digest, desc.Size, func(offset int64) (io.ReadCloser, error) {
			rc, err := c.open(ctx, ref, desc, offset)
			if err != nil {
				return nil, err
			}
			reading = true
			if progress == nil {
				return rc, nil
			}
			progress(offset)
			return &progressReader{ReadCloser: rc, n: offset, report: progress}, nil
		})
		if err == nil || !reading || !transient(err) || backoff.Steps <= 1 {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(backoff.Step()):
		}
	}
}

// progressReader reports the running count of bytes read through it.
type progressReader struct {
	io.ReadCloser
	n      int64
	report func(int64)
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.ReadCloser.Read(b)
	if n > 0 {
		p.n += int64(n)
		p.report(p.n)
	}
	return n, err
}

// open opens the blob desc from offset at the first endpoint of ref that
// has it (see Client.pull). Bytes are checked by the reader, not here: a
// mirror that sends wrong bytes fails the fetch, with no fallback.
func (c *Client) open(ctx context.Context, ref reference.Reference, desc ocispec.Descriptor, offset int64) (io.ReadCloser, error) {
	var rc io.ReadCloser
	err := c.pull(ctx, ref, func(r *repo) (err error) {
		rc, err = r.open(ctx, desc, offset)
		return err
	})
	return rc, err
}

// blobBytes reads the small blob desc (a config) into memory, verified.
func (r *repo) blobBytes(ctx context.Context, desc ocispec.Descriptor) ([]byte, error) {
	rc, err := r.open(ctx, desc, 0)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	vr := &verifier{r: io.LimitReader(rc, desc.Size+1), h: desc.Digest.Algorithm().Hash(), desc: desc}
	b, err := io.ReadAll(vr)
	if err != nil {
		return nil, fmt.Errorf("blob %s: %w: %w", desc.Digest, errdefs.ErrUnavailable, err)
	}
	return b, vr.check()
}

// open GETs the blob desc from offset on. If the registry answers a Range
// request with the whole blob, the first offset bytes are skipped.
func (r *repo) open(ctx context.Context, desc ocispec.Descriptor, offset int64) (io.ReadCloser, error) {
	what := "blob " + desc.Digest.String()
	if err := desc.Digest.Validate(); err != nil || desc.Size < 0 {
		return nil, fmt.Errorf("%s: bad descriptor (size %d): %v: %w", what, desc.Size, err, errdefs.ErrInvalidArgument)
	}
	if offset >= desc.Size && offset > 0 {
		return io.NopCloser(strings.NewReader("")), nil // all there: the store checks it
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.url("blobs", desc.Digest.String()), nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if offset > 0 {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-%d", offset, desc.Size-1))
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return nil, classify(what, err)
	}
	if err := statusError(what, resp, http.StatusOK, http.StatusPartialContent); err != nil {
		return nil, err
	}
	if cr := resp.Header.Get("Content-Range"); resp.StatusCode == http.StatusPartialContent &&
		!strings.HasPrefix(cr, fmt.Sprintf("bytes %d-", offset)) {
		resp.Body.Close()
		return nil, fmt.Errorf("%s: asked for bytes from %d, got Content-Range %q: %w", what, offset, cr, errdefs.ErrInvalidArgument)
	}
	if offset > 0 && resp.StatusCode == http.StatusOK {
		if _, err := io.CopyN(io.Discard, resp.Body, offset); err != nil {
			resp.Body.Close()
			return nil, classify(what, err)
		}
	}
	return resp.Body, nil
}

// verifier hashes what is read through it; check compares with desc.
type verifier struct {
	r    io.Reader
	h    hash.Hash
	n    int64
	desc ocispec.Descriptor
}

func (v *verifier) Read(p []byte) (int, error) {
	n, err := v.r.Read(p)
	v.h.Write(p[:n])
	v.n += int64(n)
	return n, err
}

func (v *verifier) check() error {
	if v.n != v.desc.Size {
		return fmt.Errorf("blob %s: registry sent %d bytes or more, want %d: %w", v.desc.Digest, v.n, v.desc.Size, errdefs.ErrInvalidArgument)
	}
	if got := digest.NewDigest(v.desc.Digest.Algorithm(), v.h); got != v.desc.Digest {
		return fmt.Errorf("blob %s: registry sent content with digest %s: %w", v.desc.Digest, got, errdefs.ErrInvalidArgument)
	}
	return nil
}
