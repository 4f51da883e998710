package image

import (
	"fmt"
	"runtime"
	"strings"

	"github.com/berth-project/berth/internal/errdefs"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// ParsePlatform parses "os/arch[/variant]" ("linux/arm64/v8"); the empty
// string means linux/<host arch>.
func ParsePlatform(s string) (ocispec.Platform, error) {
	if s == "" {
		return ocispec.Platform{OS: "linux", Architecture: runtime.GOARCH}, nil
	}
	p, err := v1.ParsePlatform(s)
	if err != nil || p.OS == "" || p.Architecture == "" {
		return ocispec.Platform{}, fmt.Errorf("platform %q: want os/arch[/variant]: %w", s, errdefs.ErrInvalidArgument)
	}
	return ocispec.Platform{OS: p.OS, Architecture: p.Architecture, Variant: p.Variant, OSVersion: p.OSVersion}, nil
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

// Matches reports whether an index entry of platform p serves want. An
// empty wanted variant accepts any variant.
func Matches(want ocispec.Platform, p *ocispec.Platform) bool {
	if p == nil || p.OS != want.OS || p.Architecture != want.Architecture {
		return false
	}
	return want.Variant == "" || normVariant(want.Architecture, want.Variant) == normVariant(p.Architecture, p.Variant)
}

// PlatformString prints p as "os/arch[/variant]".
func PlatformString(p ocispec.Platform) string {
	return strings.TrimSuffix(p.OS+"/"+p.Architecture+"/"+p.Variant, "/")
}

// Choose returns the first manifest in idx for want, or an error listing
// what the index offers.
func Choose(idx ocispec.Index, want ocispec.Platform) (ocispec.Descriptor, error) {
	var have []string
	for _, m := range idx.Manifests {
		if Matches(want, m.Platform) {
			return m, nil
		}
		if m.Platform != nil {
			have = append(have, PlatformString(*m.Platform))
		}
	}
	return ocispec.Descriptor{}, fmt.Errorf("no manifest for platform %s (index has %s): %w",
		PlatformString(want), strings.Join(have, ", "), errdefs.ErrNotFound)
}
