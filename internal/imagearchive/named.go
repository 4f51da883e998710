package imagearchive

import (
	"fmt"

	"github.com/berth-project/berth/internal/errdefs"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Named is an image as an archive holds it: its full name
// ("docker.io/library/busybox:latest"), or "" when untagged, and the
// descriptor of its manifest or index.
type Named struct {
	Name   string
	Target ocispec.Descriptor
}

// Format is the kind of archive Save writes.
type Format string

const (
	// DockerArchive is the layout of `docker save`: manifest.json, config
	// and uncompressed layers.
	DockerArchive Format = "docker-archive"
	// OCIArchive is an OCI image layout in a tar.
	OCIArchive Format = "oci-archive"
)

// ParseFormat checks a format name as a user gives it ("" means
// docker-archive, as for `docker save`).
func ParseFormat(s string) (Format, error) {
	switch Format(s) {
	case "", DockerArchive:
		return DockerArchive, nil
	case OCIArchive:
		return OCIArchive, nil
	}
	return "", fmt.Errorf("archive format %q: want %s or %s: %w", s, DockerArchive, OCIArchive, errdefs.ErrInvalidArgument)
}

// Bounds on what an untrusted archive may make Load hold in memory.
const (
	// MaxDocumentSize bounds one JSON document: manifest.json, index.json,
	// an image manifest, index or config.
	MaxDocumentSize = 4 << 20
	// MaxDocumentsSize bounds all the JSON documents of one archive.
	MaxDocumentsSize = 64 << 20
	// MaxMembers bounds the number of members of one archive.
	MaxMembers = 100000
)

// Media types of Docker's image format, beside ocispec's.
const (
	mediaDockerManifest     = "application/vnd.docker.distribution.manifest.v2+json"
	mediaDockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
	mediaDockerConfig       = "application/vnd.docker.container.image.v1+json"
	mediaDockerLayerGzip    = "application/vnd.docker.image.rootfs.diff.tar.gzip"
	mediaDockerForeignLayer = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"

	// annotationImageName is containerd's annotation for an image's full name.
	annotationImageName = "io.containerd.image.name"
)

func isIndex(mt string) bool {
	return mt == ocispec.MediaTypeImageIndex || mt == mediaDockerManifestList
}
func isManifest(mt string) bool {
	return mt == ocispec.MediaTypeImageManifest || mt == mediaDockerManifest
}

// isForeign reports whether a layer of media type mt may be missing from an
// image: it is fetched from elsewhere, never distributed with the image.
func isForeign(mt string) bool {
	switch mt {
	case mediaDockerForeignLayer,
		ocispec.MediaTypeImageLayerNonDistributable, // deprecated, still met in the wild
		ocispec.MediaTypeImageLayerNonDistributableGzip,
		ocispec.MediaTypeImageLayerNonDistributableZstd:
		return true
	}
	return false
}
