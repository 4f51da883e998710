package unpack

import (
	"fmt"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/berth-project/berth/internal/errdefs"
)

// Layer media types that Unpack applies. The compression is recognised from
// the blob itself (archive.Decompress), so the type only has to say "a tar
// layer, plain, gzip or zstd".
var layerTypes = map[string]bool{
	ocispec.MediaTypeImageLayer:                         true,
	ocispec.MediaTypeImageLayerGzip:                     true,
	ocispec.MediaTypeImageLayerZstd:                     true,
	"application/vnd.docker.image.rootfs.diff.tar":      true,
	"application/vnd.docker.image.rootfs.diff.tar.gzip": true,
}

// checkMediaType refuses what is not a layer Unpack can apply, with a
// clearer word for foreign (non-distributable) layers, whose blobs
// registries do not serve.
func checkMediaType(desc ocispec.Descriptor) error {
	mt := desc.MediaType
	if layerTypes[mt] {
		return nil
	}
	if strings.Contains(mt, "nondistributable") || strings.Contains(mt, "foreign") {
		return fmt.Errorf("layer %s: foreign (non-distributable) layer type %q is not supported: %w", desc.Digest, mt, errdefs.ErrNotImplemented)
	}
	return fmt.Errorf("layer %s: unsupported layer media type %q: %w", desc.Digest, mt, errdefs.ErrNotImplemented)
}
