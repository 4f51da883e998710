package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/berth-project/berth/internal/content"
	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/reference"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sync/errgroup"
)

// Progress is told how far the push of desc has come: current of total
// bytes. A blob the registry has already is reported once, whole. Calls
// never overlap, though they may come from several goroutines.
type Progress func(desc ocispec.Descriptor, current, total int64)

// pushParallel is how many blobs are uploaded at once.
const pushParallel = 4

// Push uploads the manifest or index desc from cs to ref's registry (never
// to a mirror), with everything below it: first the configs and layers
// that the registry lacks (a HEAD answers whether it has one; an upload is
// POST /blobs/uploads/ then one PUT ?digest=), then the manifests
// bottom-up (an index's children by digest), then desc itself by ref's tag,
// or by digest when ref has no tag. A ref with a digest must name desc.
//
// Every digest the registry echoes (Docker-Content-Digest) must be the one
// pushed; a mismatch is an InvalidArgument error. Layers whose media type
// is non-distributable (foreign) are not uploaded. A blob missing from cs is
// NotFound; progress may be nil.
func (c *Client) Push(ctx context.Context, cs *content.Store, ref reference.Reference, desc ocispec.Descriptor, progress Progress) error {
	what := ref.String()
	if ref.Digest != "" && ref.Digest != desc.Digest {
		return fmt.Errorf("push %s: reference names %s, pushing %s: %w", what, ref.Digest, desc.Digest, errdefs.ErrInvalidArgument)
	}
	p := &pushPlan{seen: map[digest.Digest]bool{}}
	if err := p.walk(cs, desc); err != nil {
		return fmt.Errorf("push %s: %w", what, err)
	}
	report := serialise(progress)
	r, err := c.repo(ctx, c.upstream(ref), pushAction)
	if err != nil {
		return fmt.Errorf("push %s: %w", what, err)
	}

	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(pushParallel)
	for _, b := range p.blobs {
		g.Go(func() error { return r.pushBlob(gctx, cs, b, report) })
	}
	if err := g.Wait(); err != nil {
		return fmt.Errorf("push %s: %w", what, err)
	}

	last := len(p.manifests) - 1
	for i, m := range p.manifests {
		id := m.desc.Digest.String()
		if i == last && ref.Tag != "" {
			id = ref.Tag
		} else if i < last {
			have, err := r.exists(ctx, "manifests", m.desc)
			if err != nil {
				return fmt.Errorf("push %s: %w", what, err)
			}
			if have {
				report(m.desc, m.desc.Size, m.desc.Size)
				continue
			}
		}
		if err := r.putManifest(ctx, id, m); err != nil {
			return fmt.Errorf("push %s: %w", what, err)
		}
		report(m.desc, m.desc.Size, m.desc.Size)
	}
	return nil
}

// serialise returns progress made safe for calls from several goroutines
// (and a no-op for nil).
func serialise(progress Progress) Progress {
	if progress == nil {
		return func(ocispec.Descriptor, int64, int64) {}
	}
	var mu sync.Mutex
	return func(d ocispec.Descriptor, cur, total int64) {
		mu.Lock()
		defer mu.Unlock()
		progress(d, cur, total)
	}
}

// exists asks with HEAD whether the registry has the blob or manifest desc.
func (r *repo) exists(ctx context.Context, kind string, desc ocispec.Descriptor) (bool, error) {
	what := fmt.Sprintf("%s: %s %s", r.ref.Repository(), strings.TrimSuffix(kind, "s"), desc.Digest)
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, r.url(kind, desc.Digest.String()), nil)
	if err != nil {
		return false, fmt.Errorf("%s: %w", what, err)
	}
	if kind == "manifests" {
		req.Header.Set("Accept", acceptTypes)
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return false, classify(what, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return false, nil
	}
	if err := statusError(what, resp, http.StatusOK); err != nil {
		return false, err
	}
	return true, nil
}

// pushBlob uploads the blob desc from cs unless the registry has it.
func (r *repo) pushBlob(ctx context.Context, cs *content.Store, desc ocispec.Descriptor, report Progress) error {
	what := fmt.Sprintf("%s: blob %s", r.ref.Repository(), desc.Digest)
	have, err := r.exists(ctx, "blobs", desc)
	if err != nil {
		return err
	}
	if have {
		report(desc, desc.Size, desc.Size)
		return nil
	}
	ra, err := cs.ReaderAt(desc.Digest)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer ra.Close()
	if ra.Size() != desc.Size {
		return fmt.Errorf("%s: the store holds %d bytes, the descriptor says %d: %w", what, ra.Size(), desc.Size, errdefs.ErrInvalidArgument)
	}
	loc, err := r.startUpload(ctx, what)
	if err != nil {
		return err
	}
	q := loc.Query()
	q.Set("digest", desc.Digest.String())
	loc.RawQuery = q.Encode()

	req, err := http.NewRequestWithContext(ctx, http.MethodPut, loc.String(), http.NoBody)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if desc.Size > 0 {
		req.GetBody = func() (io.ReadCloser, error) {
			return io.NopCloser(&counter{r: io.NewSectionReader(ra, 0, desc.Size), desc: desc, report: report}), nil
		}
		req.Body, _ = req.GetBody()
	}
	req.ContentLength = desc.Size
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := r.client.Do(req)
	if err != nil {
		return classify(what, err)
	}
	defer resp.Body.Close()
	if err := statusError(what, resp, http.StatusCreated); err != nil {
		return err
	}
	if err := checkEcho(what, resp, desc.Digest); err != nil {
		return err
	}
	report(desc, desc.Size, desc.Size)
	return nil
}

// startUpload opens an upload session and returns where to PUT the blob.
func (r *repo) startUpload(ctx context.Context, what string) (*url.URL, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.url("blobs", "uploads/"), http.NoBody)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return nil, classify(what, err)
	}
	defer resp.Body.Close()
	if err := statusError(what, resp, http.StatusAccepted); err != nil {
		return nil, err
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || resp.Header.Get("Location") == "" {
		return nil, fmt.Errorf("%s: upload answered without a usable Location (%q): %w", what, resp.Header.Get("Location"), errdefs.ErrInvalidArgument)
	}
	return resp.Request.URL.ResolveReference(loc), nil
}

// putManifest uploads the document m under id (a tag or its digest).
func (r *repo) putManifest(ctx context.Context, id string, m document) error {
	what := fmt.Sprintf("%s: manifest %s", r.ref.Repository(), m.desc.Digest)
	if id != m.desc.Digest.String() {
		what = fmt.Sprintf("%s:%s (manifest %s)", r.ref.Repository(), id, m.desc.Digest)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, r.url("manifests", id), bytes.NewReader(m.body))
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	req.Header.Set("Content-Type", m.desc.MediaType)
	resp, err := r.client.Do(req)
	if err != nil {
		return classify(what, err)
	}
	defer resp.Body.Close()
	if err := statusError(what, resp, http.StatusCreated, http.StatusOK); err != nil {
		return err
	}
	return checkEcho(what, resp, m.desc.Digest)
}

// checkEcho compares the registry's Docker-Content-Digest, if sent, with
// the digest pushed.
func checkEcho(what string, resp *http.Response, want digest.Digest) error {
	if h := resp.Header.Get("Docker-Content-Digest"); h != "" && h != want.String() {
		return fmt.Errorf("%s: registry stored it as %s: %w", what, h, errdefs.ErrInvalidArgument)
	}
	return nil
}

// counter reports the bytes read through it.
type counter struct {
	r      io.Reader
	n      int64
	desc   ocispec.Descriptor
	report Progress
}

func (c *counter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if n > 0 {
		c.report(c.desc, c.n, c.desc.Size)
	}
	return n, err
}

// document is a manifest or index to push, read from the store.
type document struct {
	desc ocispec.Descriptor // with its media type
	body []byte
}

// pushPlan is what a push uploads: blobs in any order, then manifests in
// order, children before parents, the one asked for last.
type pushPlan struct {
	blobs     []ocispec.Descriptor
	manifests []document
	seen      map[digest.Digest]bool
}

// walk adds desc and everything below it to the plan.
func (p *pushPlan) walk(cs *content.Store, desc ocispec.Descriptor) error {
	if p.seen[desc.Digest] {
		return nil
	}
	p.seen[desc.Digest] = true
	body, err := readDocument(cs, desc)
	if err != nil {
		return err
	}
	mt, err := checkDocument(desc.MediaType, body)
	if err != nil {
		return fmt.Errorf("%s: %w", desc.Digest, err)
	}
	if isIndex(mt) {
		var idx ocispec.Index
		if err := json.Unmarshal(body, &idx); err != nil {
			return fmt.Errorf("index %s: %v: %w", desc.Digest, err, errdefs.ErrInvalidArgument)
		}
		for _, m := range idx.Manifests {
			if err := p.walk(cs, m); err != nil {
				return err
			}
		}
	} else {
		var m ocispec.Manifest
		if err := json.Unmarshal(body, &m); err != nil {
			return fmt.Errorf("manifest %s: %v: %w", desc.Digest, err, errdefs.ErrInvalidArgument)
		}
		p.blob(m.Config)
		for _, l := range m.Layers {
			if !nonDistributable(l.MediaType) {
				p.blob(l)
			}
		}
	}
	d := desc
	d.MediaType = mt
	p.manifests = append(p.manifests, document{desc: d, body: body})
	return nil
}

func (p *pushPlan) blob(d ocispec.Descriptor) {
	if !p.seen[d.Digest] {
		p.seen[d.Digest] = true
		p.blobs = append(p.blobs, d)
	}
}

// readDocument reads the manifest or index desc from cs, checking its size
// and digest.
func readDocument(cs *content.Store, desc ocispec.Descriptor) ([]byte, error) {
	if err := desc.Digest.Validate(); err != nil {
		return nil, fmt.Errorf("digest %q: %v: %w", desc.Digest, err, errdefs.ErrInvalidArgument)
	}
	if desc.Size > MaxManifestSize {
		return nil, fmt.Errorf("manifest %s of %d bytes exceeds the limit of %d: %w", desc.Digest, desc.Size, MaxManifestSize, errdefs.ErrInvalidArgument)
	}
	rc, err := cs.Open(desc.Digest)
	if err != nil {
		return nil, fmt.Errorf("manifest %s: %w", desc.Digest, err)
	}
	defer rc.Close()
	b, err := readLimited(rc, MaxManifestSize)
	if err != nil {
		return nil, fmt.Errorf("manifest %s: %w", desc.Digest, err)
	}
	if int64(len(b)) != desc.Size || digest.FromBytes(b) != desc.Digest {
		return nil, fmt.Errorf("manifest %s: the store holds %d bytes with digest %s, the descriptor says %d: %w",
			desc.Digest, len(b), digest.FromBytes(b), desc.Size, errdefs.ErrInvalidArgument)
	}
	return b, nil
}

// nonDistributable reports whether layers of media type mt stay out of
// registries (OCI non-distributable and Docker foreign layers).
func nonDistributable(mt string) bool {
	return strings.Contains(mt, "nondistributable") || strings.Contains(mt, ".foreign.")
}
