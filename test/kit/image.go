package kit

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	digest "github.com/opencontainers/go-digest"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/berth-project/berth/internal/testenv"
)

// An Image is a kit image in an OCI image layout on disk, with what tests
// compare against: its manifest, layers and diff IDs. ExpectedTree tells
// what its rootfs must look like once unpacked.
//
// The kit's images are made without network from the host's busybox and the
// built probe, and are deterministic: the same busybox and probe give the
// same digests on every run. They are built once per machine (and per
// busybox, probe and definition) into a cache under os.TempDir(), so the
// 200 MB BigImage costs its build once, not once per test:
//
//	img := kit.BigImage(t, "")          // the cached layout itself: read only
//	own := kit.BusyboxImage(t, t.TempDir()) // a copy of its own, free to change
//	// skopeo copy img.OCIRef() …; umoci unpack --image own.Layout+":"+own.Ref …
//	kit.CheckTree(t, unpackedRootfs, kit.ExpectedTree(t, img))
type Image struct {
	Layout   string          // the OCI image layout directory
	Ref      string          // the image's name in Layout's index.json
	Manifest v1.Descriptor   // as index.json lists it
	Config   v1.Descriptor   // the config blob
	Layers   []v1.Descriptor // bottom first
	DiffIDs  []digest.Digest // the digests of the uncompressed layers

	def *imageDef
}

// Digest is the digest of the image's manifest.
func (img Image) Digest() digest.Digest { return img.Manifest.Digest }

// OCIRef names the image for skopeo and other containers/image tools:
// "oci:<layout>:<ref>".
func (img Image) OCIRef() string { return "oci:" + img.Layout + ":" + img.Ref }

// The refs of the kit images in their layouts.
const (
	BusyboxRef  = "busybox"
	BigRef      = "big"
	BigChildRef = "big-child"
)

// BusyboxImage is an image of one gzip layer holding the kit rootfs (see
// Rootfs), with Cmd ["sh"] and the DefaultPath, under the ref "busybox". With
// dir "" it is the machine's cached layout, which tests must not change;
// otherwise it is copied into the layout at dir (created if missing, and
// added to its index.json, so several kit images can share one layout).
func BusyboxImage(t testing.TB, dir string) Image {
	t.Helper()
	return kitImage(t, dir, "busybox", BusyboxRef)
}

// BigImage is a realistic multi-layer image of about 200 MB of layer tars
// (125 MB of blobs; 3,400 files once unpacked), under the ref "big", for unpack tests and
// benchmarks. Its
// bottom layer is BusyboxImage's own blob (the images share that layer's
// chain ID); above it, five layers mix gzip, zstd and a plain tar, thousands
// of small files, big random and text files, hard links, symlinks (lib64 ->
// lib), user.* xattrs, a fifo, whiteouts, an opaque directory, a file turned
// into a directory and a directory into a file (image_big.go lists it all).
// dir is as for BusyboxImage; a copy of the big image costs 125 MB.
func BigImage(t testing.TB, dir string) Image {
	t.Helper()
	return kitImage(t, dir, "big", BigRef)
}

// BigImageChild is an image under the ref "big-child" that shares the
// bottom four layers of BigImage (their blobs and chain IDs) and has a small
// gzip layer of its own on top instead of BigImage's last two. It lives in
// the same cached layout as BigImage.
func BigImageChild(t testing.TB, dir string) Image {
	t.Helper()
	return kitImage(t, dir, "big", BigChildRef)
}

// imageSet returns the images built and cached together as set.
func imageSet(set, probe string) []*imageDef {
	switch set {
	case "busybox":
		return []*imageDef{busyboxImage(probe)}
	case "big":
		return bigImages(probe)
	}
	panic("kit: no image set " + set)
}

func busyboxImage(probe string) *imageDef {
	return &imageDef{
		ref:    BusyboxRef,
		layers: []*layerDef{busyboxLayer(probe)},
		config: v1.ImageConfig{Env: []string{DefaultPath}, Cmd: []string{"sh"}},
	}
}

// kitImage returns the image ref of set, from the cache or copied from it
// into dir.
func kitImage(t testing.TB, dir, set, ref string) Image {
	t.Helper()
	if _, err := os.Stat(HostBusybox); err != nil {
		t.Fatalf("kit: %s is missing; install Debian's busybox-static (apt-get install busybox-static): %v", HostBusybox, err)
	}
	defs := imageSet(set, testenv.Binary(t, "probe"))
	var def *imageDef
	for _, d := range defs {
		if d.ref == ref {
			def = d
		}
	}
	cached, err := cachedLayout(t, set, defs)
	if err != nil {
		t.Fatalf("kit: image %s: %v", ref, err)
	}
	layout := cached
	if dir != "" {
		if err := copyImage(cached, dir, ref); err != nil {
			t.Fatalf("kit: copy image %s into %s: %v", ref, dir, err)
		}
		layout = dir
	}
	img, err := readImage(layout, ref)
	if err != nil {
		t.Fatalf("kit: %v", err)
	}
	img.def = def
	return img
}

// readImage reads the image named ref from the layout at dir.
func readImage(dir, ref string) (Image, error) {
	var index v1.Index
	if err := readJSON(filepath.Join(dir, v1.ImageIndexFile), &index); err != nil {
		return Image{}, err
	}
	img := Image{Layout: dir, Ref: ref}
	for _, m := range index.Manifests {
		if m.Annotations[v1.AnnotationRefName] == ref {
			img.Manifest = m
		}
	}
	if img.Manifest.Digest == "" {
		return Image{}, fmt.Errorf("layout %s has no image %q", dir, ref)
	}
	var m v1.Manifest
	if err := readJSON(blobPath(dir, img.Manifest.Digest), &m); err != nil {
		return Image{}, err
	}
	var config v1.Image
	if err := readJSON(blobPath(dir, m.Config.Digest), &config); err != nil {
		return Image{}, err
	}
	img.Config, img.Layers, img.DiffIDs = m.Config, m.Layers, config.RootFS.DiffIDs
	return img, nil
}

func readJSON(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("parse %s: %w", path, err)
	}
	return nil
}
