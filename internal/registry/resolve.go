package registry

import (
	"context"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/reference"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Docker's media types for the same documents as ocispec's.
const (
	DockerManifest     = "application/vnd.docker.distribution.manifest.v2+json"
	DockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
)

var acceptTypes = strings.Join([]string{
	ocispec.MediaTypeImageIndex, ocispec.MediaTypeImageManifest, DockerManifestList, DockerManifest,
}, ", ")

// Resolve fetches the manifest or index ref names and describes it: media
// type, digest and size. When ref carries a digest, the bytes must hash to
// it; otherwise they must hash to the registry's Docker-Content-Digest, if
// sent. The document is checked as Manifest would check it. Mirrors are
// tried first (see Registries).
func (c *Client) Resolve(ctx context.Context, ref reference.Reference) (ocispec.Descriptor, error) {
	var desc ocispec.Descriptor
	err := c.pull(ctx, ref, func(r *repo) (err error) {
		desc, _, err = r.document(ctx, r.ref.FetchRef(), ocispec.Descriptor{Digest: ref.Digest, Size: -1})
		return err
	})
	return desc, err
}

// document fetches the manifest or index want names (by digest; by ref's tag
// when want.Digest is empty) and verifies it against want's digest and size
// (a size of -1 is not checked) and against itself (see checkDocument).
func (r *repo) document(ctx context.Context, what string, want ocispec.Descriptor) (ocispec.Descriptor, []byte, error) {
	id := r.ref.Tag
	if want.Digest != "" {
		if err := want.Digest.Validate(); err != nil {
			return ocispec.Descriptor{}, nil, fmt.Errorf("%s: digest %q: %v: %w", what, want.Digest, err, errdefs.ErrInvalidArgument)
		}
		id = want.Digest.String()
	}
	if want.Size > MaxManifestSize {
		return ocispec.Descriptor{}, nil, fmt.Errorf("%s: manifest of %d bytes exceeds the limit of %d: %w", what, want.Size, MaxManifestSize, errdefs.ErrInvalidArgument)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.url("manifests", id), nil)
	if err != nil {
		return ocispec.Descriptor{}, nil, fmt.Errorf("%s: %w", what, err)
	}
	req.Header.Set("Accept", acceptTypes)
	resp, err := r.client.Do(req)
	if err != nil {
		return ocispec.Descriptor{}, nil, classify(what, err)
	}
	defer resp.Body.Close()
	if err := statusError(what, resp, http.StatusOK); err != nil {
		return ocispec.Descriptor{}, nil, err
	}
	b, err := readLimited(resp.Body, MaxManifestSize)
	if err != nil {
		return ocispec.Descriptor{}, nil, fmt.Errorf("%s: manifest: %w", what, err)
	}
	got := digest.FromBytes(b)
	switch {
	case want.Digest != "" && got != want.Digest:
		return ocispec.Descriptor{}, nil, fmt.Errorf("%s: registry sent content with digest %s: %w", what, got, errdefs.ErrInvalidArgument)
	case want.Size >= 0 && int64(len(b)) != want.Size:
		return ocispec.Descriptor{}, nil, fmt.Errorf("%s: registry sent %d bytes, want %d: %w", what, len(b), want.Size, errdefs.ErrInvalidArgument)
	}
	if h := resp.Header.Get("Docker-Content-Digest"); want.Digest == "" && h != "" && h != got.String() {
		return ocispec.Descriptor{}, nil, fmt.Errorf("%s: content has digest %s, registry says %s: %w", what, got, h, errdefs.ErrInvalidArgument)
	}
	ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	mt, err := checkDocument(ct, b)
	if err != nil {
		return ocispec.Descriptor{}, nil, fmt.Errorf("%s (%s): %w", what, got, err)
	}
	return ocispec.Descriptor{MediaType: mt, Digest: got, Size: int64(len(b))}, b, nil
}

// readLimited reads all of rd, failing if it holds more than limit bytes.
func readLimited(rd io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(rd, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read: %w: %w", errdefs.ErrUnavailable, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("larger than the limit of %d bytes: %w", limit, errdefs.ErrInvalidArgument)
	}
	return b, nil
}
