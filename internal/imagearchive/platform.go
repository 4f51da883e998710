package imagearchive

import (
	"encoding/json"
	"fmt"

	"github.com/berth-project/berth/internal/content"
	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/image"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// hostPlatform is the platform of the images this host runs:
// linux/<host arch>.
func hostPlatform() ocispec.Platform {
	p, _ := image.ParsePlatform("") // "" cannot fail
	return p
}

// platformManifest follows desc down to the host platform's manifest: desc
// itself when it is a manifest, else the index entry image.Choose picks
// (nested indexes are followed).
func platformManifest(cs *content.Store, desc ocispec.Descriptor) (ocispec.Descriptor, error) {
	want := hostPlatform()
	for depth := 0; isIndex(desc.MediaType); depth++ {
		if depth > 4 {
			return ocispec.Descriptor{}, fmt.Errorf("index %s: nested too deep: %w", desc.Digest, errdefs.ErrInvalidArgument)
		}
		data, err := readDocument(cs, desc)
		if err != nil {
			return ocispec.Descriptor{}, err
		}
		var idx ocispec.Index
		if err := json.Unmarshal(data, &idx); err != nil {
			return ocispec.Descriptor{}, fmt.Errorf("index %s: %v: %w", desc.Digest, err, errdefs.ErrInvalidArgument)
		}
		next, err := image.Choose(idx, want)
		if err != nil {
			return ocispec.Descriptor{}, fmt.Errorf("index %s: %w", desc.Digest, err)
		}
		desc = next
	}
	if !isManifest(desc.MediaType) {
		return ocispec.Descriptor{}, fmt.Errorf("blob %s: media type %q is not an image manifest: %w", desc.Digest, desc.MediaType, errdefs.ErrInvalidArgument)
	}
	return desc, nil
}
