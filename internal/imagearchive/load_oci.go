package imagearchive

import (
	"encoding/json"
	"fmt"
	"maps"
	"strings"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/reference"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// loadOCI resolves an OCI image layout: every blob that index.json reaches
// must be in the archive under its digest, with the size its descriptor
// states, except the entries of an index that the archive leaves out (the
// platforms that were not saved).
func loadOCI(s *spool) (loaded, error) {
	var res loaded
	lm, err := s.doc(ocispec.ImageLayoutFile)
	if err != nil {
		return res, err
	}
	var layout ocispec.ImageLayout
	if err := json.Unmarshal(lm.data, &layout); err != nil {
		return res, fmt.Errorf("%s: %v: %w", ocispec.ImageLayoutFile, err, errdefs.ErrInvalidArgument)
	}
	if layout.Version != ocispec.ImageLayoutVersion {
		return res, fmt.Errorf("%s: version %q, want %q: %w", ocispec.ImageLayoutFile, layout.Version, ocispec.ImageLayoutVersion, errdefs.ErrInvalidArgument)
	}
	im, err := s.doc(ocispec.ImageIndexFile)
	if err != nil {
		return res, err
	}
	idxDesc := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageIndex, Digest: im.digest, Size: im.size}
	var idx ocispec.Index
	if err := checkDocument(idxDesc, im.data, &idx); err != nil {
		return res, fmt.Errorf("%s: %w", ocispec.ImageIndexFile, err)
	}
	if len(idx.Manifests) == 0 {
		return res, fmt.Errorf("%s: no images: %w", ocispec.ImageIndexFile, errdefs.ErrInvalidArgument)
	}
	for i, desc := range idx.Manifests {
		if !isDocument(desc.MediaType) {
			return res, fmt.Errorf("%s entry %d: media type %q is not an image: %w", ocispec.ImageIndexFile, i, desc.MediaType, errdefs.ErrInvalidArgument)
		}
		if err := walkOCI(s, desc, true, 0, &res); err != nil {
			return res, fmt.Errorf("%s entry %d: %w", ocispec.ImageIndexFile, i, err)
		}
		name, err := ociName(desc.Annotations)
		if err != nil {
			return res, fmt.Errorf("%s entry %d: %w", ocispec.ImageIndexFile, i, err)
		}
		target := desc
		target.Annotations = maps.Clone(desc.Annotations)
		delete(target.Annotations, annotationImageName)
		delete(target.Annotations, ocispec.AnnotationRefName)
		if len(target.Annotations) == 0 {
			target.Annotations = nil
		}
		res.add(Named{Name: name, Target: target})
	}
	return res, nil
}

// walkOCI checks desc's blob and all it reaches, marking them to keep.
func walkOCI(s *spool, desc ocispec.Descriptor, required bool, depth int, res *loaded) error {
	if depth > 8 {
		return fmt.Errorf("blob %s: nested too deep: %w", desc.Digest, errdefs.ErrInvalidArgument)
	}
	if err := desc.Digest.Validate(); err != nil {
		return fmt.Errorf("descriptor digest %q: %v: %w", desc.Digest, err, errdefs.ErrInvalidArgument)
	}
	m, err := s.lookup(blobName(desc.Digest))
	if errdefs.IsNotFound(err) && (!required || isForeign(desc.MediaType)) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("blob %s: %w", desc.Digest, err)
	}
	if m.size != desc.Size {
		return fmt.Errorf("blob %s: %d bytes, its descriptor says %d: %w", desc.Digest, m.size, desc.Size, errdefs.ErrInvalidArgument)
	}
	if isDocument(desc.MediaType) {
		if !m.isDoc {
			return fmt.Errorf("blob %s: not a JSON document of at most %d bytes: %w", desc.Digest, MaxDocumentSize, errdefs.ErrInvalidArgument)
		}
		kids, err := children(desc, m.data)
		if err != nil {
			return err
		}
		for _, k := range kids {
			if err := walkOCI(s, k, !isIndex(desc.MediaType), depth+1, res); err != nil {
				return err
			}
		}
	}
	res.keepMember(m)
	return nil
}

// ociName returns the full image name an index.json entry carries:
// containerd's io.containerd.image.name, else org.opencontainers.image.ref.name
// when it is a name ("busybox:latest", as podman and skopeo write it) rather
// than a bare tag ("latest", which names no repository: the image is then
// loaded untagged).
func ociName(ann map[string]string) (string, error) {
	name := ann[annotationImageName]
	if name == "" {
		name = ann[ocispec.AnnotationRefName]
		if !strings.ContainsAny(name, "/:@") {
			return "", nil
		}
	}
	ref, err := reference.Parse(name)
	if err != nil {
		return "", err
	}
	return ref.String(), nil
}
