package imagearchive

import (
	"encoding/json"
	"fmt"
	"maps"

	"github.com/berth-project/berth/internal/content"
	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/reference"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// saveOCI writes an OCI image layout: oci-layout, the blobs every image
// reaches, and index.json with one entry per image, named as containerd
// names them.
func saveOCI(tw *tarWriter, cs *content.Store, images []Named) error {
	layout, err := json.Marshal(ocispec.ImageLayout{Version: ocispec.ImageLayoutVersion})
	if err != nil {
		return err
	}
	if err := tw.bytes(ocispec.ImageLayoutFile, layout); err != nil {
		return err
	}
	index := ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageIndex, Manifests: []ocispec.Descriptor{}}
	for _, img := range images {
		if err := writeTree(tw, cs, img.Target, true, 0); err != nil {
			return fmt.Errorf("image %q: %w", img.Name, err)
		}
		desc := img.Target
		desc.Annotations = maps.Clone(desc.Annotations)
		if img.Name != "" {
			if desc.Annotations == nil {
				desc.Annotations = map[string]string{}
			}
			desc.Annotations[annotationImageName] = img.Name
			ref, _ := reference.Parse(img.Name) // checked by Save
			if ref.Tag != "" {
				desc.Annotations[ocispec.AnnotationRefName] = ref.Tag
			}
		}
		index.Manifests = append(index.Manifests, desc)
	}
	data, err := json.Marshal(index)
	if err != nil {
		return err
	}
	return tw.bytes(ocispec.ImageIndexFile, data)
}

// writeTree writes desc's blob and everything it reaches. A manifest that an
// index names but the store lacks (a platform that was never pulled) is left
// out, as containerd leaves it out; any other missing blob is an error.
func writeTree(tw *tarWriter, cs *content.Store, desc ocispec.Descriptor, required bool, depth int) error {
	if depth > 8 {
		return fmt.Errorf("blob %s: nested too deep: %w", desc.Digest, errdefs.ErrInvalidArgument)
	}
	if tw.done[blobName(desc.Digest)] {
		return nil
	}
	if _, err := cs.Info(desc.Digest); errdefs.IsNotFound(err) && (!required || isForeign(desc.MediaType)) {
		return nil
	}
	if isDocument(desc.MediaType) {
		data, err := readDocument(cs, desc)
		if err != nil {
			return err
		}
		kids, err := children(desc, data)
		if err != nil {
			return err
		}
		for _, k := range kids {
			// An index's entries may be absent; a manifest's blobs may not.
			if err := writeTree(tw, cs, k, !isIndex(desc.MediaType), depth+1); err != nil {
				return err
			}
		}
	}
	return tw.blob(cs, desc.Digest, desc.Size)
}
