package imagearchive

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/berth-project/berth/internal/content"
	"github.com/berth-project/berth/internal/errdefs"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// readDocument reads the JSON document desc names from the store, bounded by
// MaxDocumentSize, and checks its size and digest against desc.
func readDocument(cs *content.Store, desc ocispec.Descriptor) ([]byte, error) {
	if desc.Size < 0 || desc.Size > MaxDocumentSize {
		return nil, fmt.Errorf("document %s: size %d exceeds %d bytes: %w", desc.Digest, desc.Size, MaxDocumentSize, errdefs.ErrInvalidArgument)
	}
	rc, err := cs.Open(desc.Digest)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, MaxDocumentSize+1))
	if err != nil {
		return nil, fmt.Errorf("read blob %s: %w", desc.Digest, err)
	}
	if int64(len(b)) != desc.Size || digest.FromBytes(b) != desc.Digest {
		return nil, fmt.Errorf("blob %s: %d bytes in the store do not match the descriptor (%d bytes): %w",
			desc.Digest, len(b), desc.Size, errdefs.ErrFailedPrecondition)
	}
	return b, nil
}

// putBlob stores data, known in full, as the blob of its digest; a blob
// already there is success.
func putBlob(cs *content.Store, data []byte) (digest.Digest, error) {
	d := digest.FromBytes(data)
	w, err := cs.Writer("imagearchive-"+d.String(), d, int64(len(data)))
	if errdefs.IsAlreadyExists(err) {
		return d, nil
	}
	if err != nil {
		return "", err
	}
	if _, err := w.Write(data); err != nil {
		return "", errors.Join(err, w.Discard())
	}
	if err := w.Commit(); err != nil && !errdefs.IsAlreadyExists(err) {
		return "", err
	}
	return d, nil
}

// putJSON stores v, encoded as JSON, and returns its descriptor.
func putJSON(cs *content.Store, mediaType string, v any) (ocispec.Descriptor, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("encode %s: %w", mediaType, err)
	}
	d, err := putBlob(cs, data)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	return ocispec.Descriptor{MediaType: mediaType, Digest: d, Size: int64(len(data))}, nil
}

// children returns what the document desc refers to: an index's manifests,
// a manifest's config and layers. Other blobs have none.
func children(desc ocispec.Descriptor, data []byte) ([]ocispec.Descriptor, error) {
	switch {
	case isIndex(desc.MediaType):
		var idx ocispec.Index
		if err := checkDocument(desc, data, &idx); err != nil {
			return nil, err
		}
		return idx.Manifests, nil
	case isManifest(desc.MediaType):
		var m ocispec.Manifest
		if err := checkDocument(desc, data, &m); err != nil {
			return nil, err
		}
		if m.Config.Digest == "" {
			return nil, fmt.Errorf("manifest %s: no config: %w", desc.Digest, errdefs.ErrInvalidArgument)
		}
		return append([]ocispec.Descriptor{m.Config}, m.Layers...), nil
	}
	return nil, nil
}

// checkDocument decodes the index or manifest data into v, refusing a
// document whose own mediaType disagrees with desc's, or that could be read
// as both an index and a manifest (CVE-2021-41190).
func checkDocument(desc ocispec.Descriptor, data []byte, v any) error {
	var shape struct {
		MediaType string          `json:"mediaType"`
		Manifests json.RawMessage `json:"manifests"`
		Config    json.RawMessage `json:"config"`
		Layers    json.RawMessage `json:"layers"`
	}
	if err := json.Unmarshal(data, &shape); err != nil {
		return fmt.Errorf("document %s: %v: %w", desc.Digest, err, errdefs.ErrInvalidArgument)
	}
	if shape.MediaType != "" && shape.MediaType != desc.MediaType {
		return fmt.Errorf("document %s: media type %q, its descriptor says %q: %w", desc.Digest, shape.MediaType, desc.MediaType, errdefs.ErrInvalidArgument)
	}
	if shape.Manifests != nil && (shape.Config != nil || shape.Layers != nil) {
		return fmt.Errorf("document %s: both an index and a manifest: %w", desc.Digest, errdefs.ErrInvalidArgument)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("document %s: %v: %w", desc.Digest, err, errdefs.ErrInvalidArgument)
	}
	return nil
}

// isDocument reports whether blobs of media type mt are JSON documents that
// refer to others.
func isDocument(mt string) bool { return isIndex(mt) || isManifest(mt) }
