package registry

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/image"
	"github.com/berth-project/berth/internal/reference"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Image is one platform's image as fetched: its manifest and config, raw
// and verified, and the descriptor ref resolved to.
type Image struct {
	Target      ocispec.Descriptor // what ref named: an index or this manifest
	Descriptor  ocispec.Descriptor // the manifest's, with the chosen platform when from an index
	Manifest    ocispec.Manifest
	RawManifest []byte
	RawConfig   []byte
}

// Manifest fetches the manifest and config of ref for platform
// ("linux/arm64/v8"; "" means linux/<host arch>). From an index it picks the
// first entry for the platform; an index without one gives a NotFound error
// naming the platforms it has. A lone manifest is taken as it is unless a
// platform was given and its config says otherwise. Mirrors are tried
// first (see Registries); one endpoint serves all three documents.
func (c *Client) Manifest(ctx context.Context, ref reference.Reference, platform string) (*Image, error) {
	want, err := image.ParsePlatform(platform)
	if err != nil {
		return nil, err
	}
	var img *Image
	err = c.pull(ctx, ref, func(r *repo) (err error) {
		img, err = r.manifest(ctx, want, platform != "")
		return err
	})
	return img, err
}

// manifest is Manifest at one endpoint; explicit tells whether the
// platform was asked for.
func (r *repo) manifest(ctx context.Context, want ocispec.Platform, explicit bool) (*Image, error) {
	what := r.ref.String()
	ref := r.ref
	target, b, err := r.document(ctx, what, ocispec.Descriptor{Digest: ref.Digest, Size: -1})
	if err != nil {
		return nil, err
	}
	img := &Image{Target: target, Descriptor: target, RawManifest: b}
	if isIndex(target.MediaType) {
		var idx ocispec.Index
		if err := json.Unmarshal(b, &idx); err != nil {
			return nil, fmt.Errorf("%s: index: %v: %w", what, err, errdefs.ErrInvalidArgument)
		}
		d, err := image.Choose(idx, want)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		md, mb, err := r.document(ctx, what+"@"+d.Digest.String(), d)
		if err != nil {
			return nil, err
		}
		if !isManifest(md.MediaType) {
			return nil, fmt.Errorf("%s: index entry %s is a %s, not an image manifest: %w", what, d.Digest, md.MediaType, errdefs.ErrInvalidArgument)
		}
		md.Platform = d.Platform
		img.Descriptor, img.RawManifest = md, mb
	}
	if err := json.Unmarshal(img.RawManifest, &img.Manifest); err != nil {
		return nil, fmt.Errorf("%s: manifest %s: %v: %w", what, img.Descriptor.Digest, err, errdefs.ErrInvalidArgument)
	}
	cfg := img.Manifest.Config
	if cfg.Size > MaxConfigSize || cfg.Size < 0 {
		return nil, fmt.Errorf("%s: config %s of %d bytes exceeds the limit of %d: %w", what, cfg.Digest, cfg.Size, MaxConfigSize, errdefs.ErrInvalidArgument)
	}
	if img.RawConfig, err = r.blobBytes(ctx, cfg); err != nil {
		return nil, fmt.Errorf("%s: config: %w", what, err)
	}
	if explicit && !isIndex(target.MediaType) {
		var p ocispec.Platform
		_ = json.Unmarshal(img.RawConfig, &p) // os and architecture are top-level config fields
		if p.OS != "" && !image.Matches(ocispec.Platform{OS: want.OS, Architecture: want.Architecture}, &p) {
			return nil, fmt.Errorf("%s: image is for %s, not %s: %w", what, image.PlatformString(p), image.PlatformString(want), errdefs.ErrNotFound)
		}
	}
	return img, nil
}
