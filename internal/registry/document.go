package registry

import (
	"encoding/json"
	"fmt"

	"github.com/berth-project/berth/internal/errdefs"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// shape holds the fields that tell an index from a manifest.
type shape struct {
	MediaType string          `json:"mediaType"`
	Manifests json.RawMessage `json:"manifests"`
	Layers    json.RawMessage `json:"layers"`
	Config    json.RawMessage `json:"config"`
}

func isIndex(mt string) bool    { return mt == ocispec.MediaTypeImageIndex || mt == DockerManifestList }
func isManifest(mt string) bool { return mt == ocispec.MediaTypeImageManifest || mt == DockerManifest }

// checkDocument returns the media type of the manifest or index b, served
// with Content-Type ct, and rejects documents that could be read as either
// (CVE-2021-41190): a mediaType field that disagrees with ct, or both
// "manifests" and "layers"/"config". It also rejects what is not JSON and
// media types Berth does not read (Docker schema 1, for one).
func checkDocument(ct string, b []byte) (string, error) {
	var s shape
	if err := json.Unmarshal(b, &s); err != nil {
		return "", fmt.Errorf("not a valid manifest or index (%v): %w", err, errdefs.ErrInvalidArgument)
	}
	mt := ct
	switch {
	case s.MediaType != "" && (isIndex(ct) || isManifest(ct)) && s.MediaType != ct:
		return "", fmt.Errorf("ambiguous document: mediaType %q but Content-Type %q: %w", s.MediaType, ct, errdefs.ErrInvalidArgument)
	case !isIndex(mt) && !isManifest(mt):
		mt = s.MediaType // a registry may say application/json
	}
	hasManifests := len(s.Manifests) > 0 && string(s.Manifests) != "null"
	hasImage := (len(s.Layers) > 0 && string(s.Layers) != "null") || (len(s.Config) > 0 && string(s.Config) != "null")
	switch {
	case hasManifests && hasImage:
		return "", fmt.Errorf("ambiguous document: has both manifests and layers/config: %w", errdefs.ErrInvalidArgument)
	case isIndex(mt) && hasImage:
		return "", fmt.Errorf("ambiguous document: index (%s) with layers/config: %w", mt, errdefs.ErrInvalidArgument)
	case isManifest(mt) && hasManifests:
		return "", fmt.Errorf("ambiguous document: manifest (%s) with manifests: %w", mt, errdefs.ErrInvalidArgument)
	case !isIndex(mt) && !isManifest(mt):
		return "", fmt.Errorf("unsupported media type %q (Content-Type %q): %w", s.MediaType, ct, errdefs.ErrInvalidArgument)
	}
	return mt, nil
}
