package imagearchive

import (
	"encoding/json"
	"fmt"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/reference"
	digest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// loadDocker resolves a docker-archive: each manifest.json entry's config
// and layers, each layer checked against the config's diffIDs, become an
// OCI manifest made here.
func loadDocker(s *spool) (loaded, error) {
	var res loaded
	mj, err := s.doc("manifest.json")
	if err != nil {
		return res, err
	}
	var entries []dockerManifestEntry
	if err := json.Unmarshal(mj.data, &entries); err != nil {
		return res, fmt.Errorf("manifest.json: %v: %w", err, errdefs.ErrInvalidArgument)
	}
	if len(entries) == 0 {
		return res, fmt.Errorf("manifest.json: no images: %w", errdefs.ErrInvalidArgument)
	}
	for i, e := range entries {
		target, err := dockerImage(s, e, &res)
		if err != nil {
			return res, fmt.Errorf("manifest.json entry %d: %w", i, err)
		}
		if len(e.RepoTags) == 0 {
			res.add(Named{Target: target})
		}
		for _, tag := range e.RepoTags {
			ref, err := reference.Parse(tag)
			if err != nil {
				return res, fmt.Errorf("manifest.json entry %d: %w", i, err)
			}
			res.add(Named{Name: ref.String(), Target: target})
		}
	}
	return res, nil
}

// dockerImage checks one manifest.json entry, marks its members to keep
// and returns the descriptor of the manifest made for it.
func dockerImage(s *spool, e dockerManifestEntry, res *loaded) (ocispec.Descriptor, error) {
	cm, err := s.doc(e.Config)
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("config: %w", err)
	}
	var cfg ocispec.Image
	if err := json.Unmarshal(cm.data, &cfg); err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("config %q: %v: %w", e.Config, err, errdefs.ErrInvalidArgument)
	}
	if cfg.RootFS.Type != "layers" {
		return ocispec.Descriptor{}, fmt.Errorf("config %q: rootfs type %q, want \"layers\": %w", e.Config, cfg.RootFS.Type, errdefs.ErrInvalidArgument)
	}
	if len(cfg.RootFS.DiffIDs) != len(e.Layers) {
		return ocispec.Descriptor{}, fmt.Errorf("config %q lists %d diffIDs for %d layers: %w", e.Config, len(cfg.RootFS.DiffIDs), len(e.Layers), errdefs.ErrInvalidArgument)
	}
	m := ocispec.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageManifest,
		Config:    ocispec.Descriptor{MediaType: ocispec.MediaTypeImageConfig, Digest: cm.digest, Size: cm.size},
		Layers:    []ocispec.Descriptor{},
	}
	res.keepMember(cm)
	for i, name := range e.Layers {
		lm, err := s.lookup(name)
		if err != nil {
			return ocispec.Descriptor{}, fmt.Errorf("layer %d: %w", i, err)
		}
		if lm.diffID != cfg.RootFS.DiffIDs[i] {
			return ocispec.Descriptor{}, fmt.Errorf("layer %d (%q): content has diffID %s, the config says %s: %w",
				i, name, lm.diffID, cfg.RootFS.DiffIDs[i], errdefs.ErrInvalidArgument)
		}
		mt := ocispec.MediaTypeImageLayer
		switch lm.compression {
		case "gzip":
			mt = ocispec.MediaTypeImageLayerGzip
		case "zstd":
			mt = ocispec.MediaTypeImageLayerZstd
		}
		m.Layers = append(m.Layers, ocispec.Descriptor{MediaType: mt, Digest: lm.digest, Size: lm.size})
		res.keepMember(lm)
	}
	data, err := json.Marshal(m)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	made := &member{name: "manifest for " + e.Config, data: data, size: int64(len(data))}
	res.keepMember(made)
	desc := ocispec.Descriptor{MediaType: m.MediaType, Digest: digest.FromBytes(data), Size: int64(len(data))}
	if cfg.OS != "" && cfg.Architecture != "" {
		desc.Platform = &ocispec.Platform{OS: cfg.OS, Architecture: cfg.Architecture, Variant: cfg.Variant, OSVersion: cfg.OSVersion}
	}
	return desc, nil
}
