// Package image reads what an image is made of: its manifest's config
// (ocispec.Image, used as is), the diffIDs of its layers and the chain IDs
// that name the snapshots its layers unpack into.
//
// A chain ID names a stack of layers, not one layer, so images that share
// their bottom layers share those snapshots:
//
//	ChainID(L1)       = DiffID(L1)
//	ChainID(L1..Ln)   = sha256(ChainID(L1..Ln-1) + " " + DiffID(Ln))
package image

import (
	"encoding/json"
	"fmt"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// ChainIDs returns the chain ID of every prefix of diffIDs: the i-th
// element names the snapshot holding layers 0..i.
func ChainIDs(diffIDs []digest.Digest) []digest.Digest {
	out := make([]digest.Digest, len(diffIDs))
	for i, d := range diffIDs {
		if i == 0 {
			out[i] = d
			continue
		}
		out[i] = digest.FromString(out[i-1].String() + " " + d.String())
	}
	return out
}

// ChainID returns the chain ID of the whole stack diffIDs ("" for none).
func ChainID(diffIDs []digest.Digest) digest.Digest {
	if len(diffIDs) == 0 {
		return ""
	}
	ids := ChainIDs(diffIDs)
	return ids[len(ids)-1]
}

// ParseConfig decodes an image config and checks that it can be unpacked
// from manifest m: one diffID per layer, each a valid digest.
func ParseConfig(raw []byte, m ocispec.Manifest) (ocispec.Image, error) {
	var c ocispec.Image
	if err := json.Unmarshal(raw, &c); err != nil {
		return c, fmt.Errorf("image config %s: %v: %w", m.Config.Digest, err, errdefs.ErrInvalidArgument)
	}
	if c.RootFS.Type != "layers" {
		return c, fmt.Errorf("image config %s: rootfs type %q, want \"layers\": %w", m.Config.Digest, c.RootFS.Type, errdefs.ErrInvalidArgument)
	}
	if len(c.RootFS.DiffIDs) != len(m.Layers) {
		return c, fmt.Errorf("image config %s: %d diffIDs for %d layers: %w", m.Config.Digest, len(c.RootFS.DiffIDs), len(m.Layers), errdefs.ErrInvalidArgument)
	}
	for _, d := range c.RootFS.DiffIDs {
		if err := d.Validate(); err != nil {
			return c, fmt.Errorf("image config %s: diffID %q: %v: %w", m.Config.Digest, d, err, errdefs.ErrInvalidArgument)
		}
	}
	return c, nil
}
