package imagearchive

import (
	"encoding/json"
	"fmt"
	"runtime"
	"strings"

	"github.com/berth-project/berth/internal/content"
	"github.com/berth-project/berth/internal/errdefs"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// hostPlatform is the platform of the images this host runs.
func hostPlatform() ocispec.Platform {
	p := ocispec.Platform{OS: "linux", Architecture: runtime.GOARCH}
	if p.Architecture == "arm" {
		p.Variant = "v7"
	}
	return p
}

// platformManifest follows desc down to the host platform's manifest: desc
// itself when it is a manifest, else the first matching entry of the index
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
		next, ok := choose(idx, want)
		if !ok {
			var have []string
			for _, m := range idx.Manifests {
				if m.Platform != nil {
					have = append(have, platformString(*m.Platform))
				}
			}
			return ocispec.Descriptor{}, fmt.Errorf("index %s: no manifest for %s (it has %s): %w",
				desc.Digest, platformString(want), strings.Join(have, ", "), errdefs.ErrNotFound)
		}
		desc = next
	}
	if !isManifest(desc.MediaType) {
		return ocispec.Descriptor{}, fmt.Errorf("blob %s: media type %q is not an image manifest: %w", desc.Digest, desc.MediaType, errdefs.ErrInvalidArgument)
	}
	return desc, nil
}

// choose returns the first entry of idx for want; an entry without a
// platform serves only when it is the index's one entry.
func choose(idx ocispec.Index, want ocispec.Platform) (ocispec.Descriptor, bool) {
	for _, m := range idx.Manifests {
		p := m.Platform
		if p == nil {
			if len(idx.Manifests) == 1 {
				return m, true
			}
			continue
		}
		if p.OS == want.OS && p.Architecture == want.Architecture && normVariant(p.Architecture, p.Variant) == normVariant(want.Architecture, want.Variant) {
			return m, true
		}
	}
	return ocispec.Descriptor{}, false
}

// normVariant gives each architecture's default variant one spelling.
func normVariant(arch, variant string) string {
	switch {
	case arch == "arm64" && variant == "v8", arch == "amd64" && variant == "v1":
		return ""
	case arch == "arm" && variant == "":
		return "v7"
	}
	return variant
}

func platformString(p ocispec.Platform) string {
	return strings.TrimSuffix(p.OS+"/"+p.Architecture+"/"+p.Variant, "/")
}
