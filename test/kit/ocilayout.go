package kit

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	digest "github.com/opencontainers/go-digest"
	specsgo "github.com/opencontainers/image-spec/specs-go"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/berth-project/berth/internal/testenv"
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
// ref, so one layout can hold several refs. Its layer is byte for byte the
// layer of BusyboxImage (and the bottom layer of BigImage):
//
//	dig := kit.OCILayout(t, dir, "latest")
//	// skopeo inspect oci:DIR:latest, umoci unpack --image DIR:latest …
func OCILayout(t testing.TB, dir, ref string) string {
	t.Helper()
	img := &imageDef{
		ref:    ref,
		layers: []*layerDef{busyboxLayer(testenv.Binary(t, "probe"))},
		config: v1.ImageConfig{Env: []string{DefaultPath}, Cmd: []string{"/bin/sh"}},
	}
	ds, err := writeLayout(dir, []*imageDef{img})
	if err != nil {
		t.Fatalf("kit: write OCI layout %s:%s: %v", dir, ref, err)
	}
	return ds[ref].Digest.String()
}

// DefaultPath is the PATH in the config of every kit image.
const DefaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// An imageDef is an image to write: its layers, bottom first, and the
// config of its process.
type imageDef struct {
	ref    string
	layers []*layerDef
	config v1.ImageConfig
}

// writeLayout writes images into the OCI layout at dir (created if missing),
// adding each to index.json under its ref, and returns their manifests' descriptors
// by ref. A layer definition shared by several images is written once.
func writeLayout(dir string, images []*imageDef) (map[string]v1.Descriptor, error) {
	if err := os.MkdirAll(filepath.Join(dir, "blobs", "sha256"), 0o755); err != nil {
		return nil, fmt.Errorf("create blobs: %w", err)
	}
	layers, err := writeLayers(dir, images)
	if err != nil {
		return nil, err
	}
	out := map[string]v1.Descriptor{}
	for _, img := range images {
		manifest, err := writeManifest(dir, img, layers)
		if err != nil {
			return nil, fmt.Errorf("image %s: %w", img.ref, err)
		}
		if err := addToIndex(dir, manifest); err != nil {
			return nil, err
		}
		out[img.ref] = manifest
	}
	layout, err := json.Marshal(v1.ImageLayout{Version: v1.ImageLayoutVersion})
	if err != nil {
		return nil, fmt.Errorf("encode oci-layout: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, v1.ImageLayoutFile), layout, 0o644); err != nil {
		return nil, fmt.Errorf("write oci-layout: %w", err)
	}
	return out, nil
}

// writtenLayer is a layer blob in the layout.
type writtenLayer struct {
	desc   v1.Descriptor
	diffID digest.Digest
}

// writeLayers writes every distinct layer of images, as many at once as
// there are CPUs.
func writeLayers(dir string, images []*imageDef) (map[*layerDef]writtenLayer, error) {
	var todo []*layerDef
	seen := map[*layerDef]bool{}
	for _, img := range images {
		for _, l := range img.layers {
			if !seen[l] {
				seen[l] = true
				todo = append(todo, l)
			}
		}
	}
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		errs []error
		sem  = make(chan struct{}, runtime.GOMAXPROCS(0))
		done = map[*layerDef]writtenLayer{}
	)
	for _, l := range todo {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			desc, diffID, err := writeLayer(dir, l)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			done[l] = writtenLayer{desc, diffID}
		}()
	}
	wg.Wait()
	return done, errors.Join(errs...)
}

// writeManifest writes img's config and manifest blobs and returns the
// manifest's descriptor, with platform and ref annotation as index.json
// lists it.
func writeManifest(dir string, img *imageDef, layers map[*layerDef]writtenLayer) (v1.Descriptor, error) {
	created := ImageCreated
	platform := v1.Platform{Architecture: runtime.GOARCH, OS: "linux"}
	cfg := v1.Image{
		Created:  &created,
		Platform: platform,
		Config:   img.config,
		RootFS:   v1.RootFS{Type: "layers"},
	}
	m := v1.Manifest{
		Versioned: specsgo.Versioned{SchemaVersion: 2},
		MediaType: v1.MediaTypeImageManifest,
	}
	for _, l := range img.layers {
		w := layers[l]
		cfg.RootFS.DiffIDs = append(cfg.RootFS.DiffIDs, w.diffID)
		cfg.History = append(cfg.History, v1.History{Created: &created, CreatedBy: "berth test kit: " + l.comment})
		m.Layers = append(m.Layers, w.desc)
	}
	config, err := writeJSONBlob(dir, v1.MediaTypeImageConfig, cfg)
	if err != nil {
		return v1.Descriptor{}, err
	}
	m.Config = config
	manifest, err := writeJSONBlob(dir, v1.MediaTypeImageManifest, m)
	if err != nil {
		return v1.Descriptor{}, err
	}
	manifest.Platform = &platform
	manifest.Annotations = map[string]string{v1.AnnotationRefName: img.ref}
	return manifest, nil
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
