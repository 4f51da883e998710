package kit

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	digest "github.com/opencontainers/go-digest"
	specsgo "github.com/opencontainers/image-spec/specs-go"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"
)

// ImageCreated is the creation time written into kit images and layer
// entries, so that the same inputs give the same digests.
var ImageCreated = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// OCILayout writes an image of the kit rootfs into the OCI image layout at dir
// (created if missing) under the reference name ref, and returns the digest of
// its manifest ("sha256:…"). The image has one gzip layer, a config with Cmd
// ["/bin/sh"] (no Entrypoint, as busybox images), a default PATH, os linux and
// the host's architecture (the busybox in it is the host's). The image is
// added to an existing layout's index.json, replacing an image of the same
// ref, so one layout can hold several refs:
//
//	dig := kit.OCILayout(t, dir, "latest")
//	// skopeo inspect oci:DIR:latest, umoci unpack --image DIR:latest …
func OCILayout(t testing.TB, dir, ref string) string {
	t.Helper()
	rootfs := filepath.Join(t.TempDir(), "rootfs")
	Rootfs(t, rootfs)
	d, err := writeImage(dir, ref, rootfs)
	if err != nil {
		t.Fatalf("kit: write OCI layout %s:%s: %v", dir, ref, err)
	}
	return d.String()
}

func writeImage(dir, ref, rootfs string) (digest.Digest, error) {
	if err := os.MkdirAll(filepath.Join(dir, "blobs", "sha256"), 0o755); err != nil {
		return "", fmt.Errorf("create blobs: %w", err)
	}
	layer, diffID, err := writeLayer(dir, rootfs)
	if err != nil {
		return "", err
	}
	created := ImageCreated
	platform := v1.Platform{Architecture: runtime.GOARCH, OS: "linux"}
	config, err := writeJSONBlob(dir, v1.MediaTypeImageConfig, v1.Image{
		Created:  &created,
		Platform: platform,
		Config: v1.ImageConfig{
			Env: []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
			Cmd: []string{"/bin/sh"},
		},
		RootFS:  v1.RootFS{Type: "layers", DiffIDs: []digest.Digest{diffID}},
		History: []v1.History{{Created: &created, CreatedBy: "berth test kit: busybox rootfs with /probe"}},
	})
	if err != nil {
		return "", err
	}
	manifest, err := writeJSONBlob(dir, v1.MediaTypeImageManifest, v1.Manifest{
		Versioned: specsgo.Versioned{SchemaVersion: 2},
		MediaType: v1.MediaTypeImageManifest,
		Config:    config,
		Layers:    []v1.Descriptor{layer},
	})
	if err != nil {
		return "", err
	}
	manifest.Platform = &platform
	manifest.Annotations = map[string]string{v1.AnnotationRefName: ref}
	if err := addToIndex(dir, manifest); err != nil {
		return "", err
	}
	layout, err := json.Marshal(v1.ImageLayout{Version: v1.ImageLayoutVersion})
	if err != nil {
		return "", fmt.Errorf("encode oci-layout: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, v1.ImageLayoutFile), layout, 0o644); err != nil {
		return "", fmt.Errorf("write oci-layout: %w", err)
	}
	return manifest.Digest, nil
}

// writeJSONBlob stores v as a blob and returns its descriptor.
func writeJSONBlob(dir, mediaType string, v any) (v1.Descriptor, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return v1.Descriptor{}, fmt.Errorf("encode %s: %w", mediaType, err)
	}
	d := digest.FromBytes(data)
	if err := os.WriteFile(blobPath(dir, d), data, 0o644); err != nil {
		return v1.Descriptor{}, fmt.Errorf("write %s blob: %w", mediaType, err)
	}
	return v1.Descriptor{MediaType: mediaType, Digest: d, Size: int64(len(data))}, nil
}

func blobPath(dir string, d digest.Digest) string {
	return filepath.Join(dir, "blobs", d.Algorithm().String(), d.Encoded())
}

// addToIndex adds desc to dir/index.json, dropping any entry of the same ref.
func addToIndex(dir string, desc v1.Descriptor) error {
	p := filepath.Join(dir, v1.ImageIndexFile)
	index := v1.Index{Versioned: specsgo.Versioned{SchemaVersion: 2}, MediaType: v1.MediaTypeImageIndex}
	data, err := os.ReadFile(p)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return fmt.Errorf("read %s: %w", p, err)
	default:
		if err := json.Unmarshal(data, &index); err != nil {
			return fmt.Errorf("parse %s: %w", p, err)
		}
	}
	ref := desc.Annotations[v1.AnnotationRefName]
	kept := []v1.Descriptor{}
	for _, m := range index.Manifests {
		if m.Annotations[v1.AnnotationRefName] != ref {
			kept = append(kept, m)
		}
	}
	index.Manifests = append(kept, desc)
	data, err = json.Marshal(index)
	if err != nil {
		return fmt.Errorf("encode %s: %w", p, err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", p, err)
	}
	return nil
}
