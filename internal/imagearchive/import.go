package imagearchive

import (
	"archive/tar"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/berth-project/berth/internal/archive"
	"github.com/berth-project/berth/internal/content"
	"github.com/berth-project/berth/internal/errdefs"
	"github.com/klauspost/compress/gzip"
	digest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// ImportOptions shape the image Import makes.
type ImportOptions struct {
	// Source names where the tarball came from ("-", a path or a URL), for
	// the history entry "imported from <Source>".
	Source string
	// Message is the history entry's comment (`docker import -m`).
	Message string
	// Changes are Dockerfile-like instructions applied to the config in
	// order (see ApplyChange).
	Changes []string
	// Created is the image's creation time; the zero time means now.
	Created time.Time
}

// Import makes a one-layer image for the host platform from a root file
// system tarball r (plain tar, or gzip or zstd compressed), as `docker
// import` does, and returns its manifest's descriptor. The layer is stored
// gzip-compressed; r must be a whole, non-empty tar archive. Bad changes are
// refused before r is read. Import adds no GC root.
func Import(ctx context.Context, r io.Reader, cs *content.Store, opts ImportOptions) (ocispec.Descriptor, error) {
	var cfg ocispec.ImageConfig
	for _, c := range opts.Changes {
		if err := ApplyChange(&cfg, c); err != nil {
			return ocispec.Descriptor{}, fmt.Errorf("import: %w", err)
		}
	}
	source := opts.Source
	if source == "" {
		source = "-"
	}
	layer, diffID, err := importLayer(ctx, r, cs)
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("import %s: %w", source, err)
	}
	created := opts.Created.UTC()
	if opts.Created.IsZero() {
		created = time.Now().UTC()
	}
	img := ocispec.Image{
		Created:  &created,
		Platform: hostPlatform(),
		Config:   cfg,
		RootFS:   ocispec.RootFS{Type: "layers", DiffIDs: []digest.Digest{diffID}},
		History:  []ocispec.History{{Created: &created, CreatedBy: "imported from " + source, Comment: opts.Message}},
	}
	config, err := putJSON(cs, ocispec.MediaTypeImageConfig, img)
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("import %s: config: %w", source, err)
	}
	manifest, err := putJSON(cs, ocispec.MediaTypeImageManifest, ocispec.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageManifest,
		Config:    config,
		Layers:    []ocispec.Descriptor{layer},
	})
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("import %s: manifest: %w", source, err)
	}
	p := hostPlatform()
	manifest.Platform = &p
	return manifest, nil
}

// importLayer stores r, checked to be a tar archive, as a gzip layer and
// returns its descriptor and diffID. On error nothing is left in the store.
func importLayer(ctx context.Context, r io.Reader, cs *content.Store) (_ ocispec.Descriptor, _ digest.Digest, err error) {
	var rnd [8]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return ocispec.Descriptor{}, "", err
	}
	w, err := cs.Writer("imagearchive-import-"+hex.EncodeToString(rnd[:]), "", 0)
	if err != nil {
		return ocispec.Descriptor{}, "", err
	}
	committed := false
	defer func() {
		if !committed {
			err = errors.Join(err, w.Discard())
		}
	}()
	dr, err := archive.Decompress(ctxReader{ctx, r})
	if err != nil {
		return ocispec.Descriptor{}, "", err
	}
	defer dr.Close()
	gz := gzip.NewWriter(w)
	diff := digest.SHA256.Digester()
	tee := &countingReader{r: io.TeeReader(dr, io.MultiWriter(diff.Hash(), gz))}
	tr := tar.NewReader(tee)
	for {
		before := tee.n
		_, err := tr.Next()
		if err == io.EOF {
			if err := checkTarEnd(tee.n, before); err != nil {
				return ocispec.Descriptor{}, "", fmt.Errorf("rootfs tarball: %w", err)
			}
			break
		}
		if err == nil {
			_, err = io.Copy(io.Discard, tr)
		}
		if err != nil {
			return ocispec.Descriptor{}, "", readErr(ctx, "rootfs tarball", err)
		}
	}
	// The end-of-archive blocks and any padding after them are the layer's too.
	if _, err := io.Copy(io.Discard, tee); err != nil {
		return ocispec.Descriptor{}, "", readErr(ctx, "rootfs tarball", err)
	}
	if err := gz.Close(); err != nil {
		return ocispec.Descriptor{}, "", err
	}
	desc := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayerGzip, Digest: w.Digest(), Size: w.Offset()}
	committed = true
	if err := w.Commit(); err != nil && !errdefs.IsAlreadyExists(err) {
		return ocispec.Descriptor{}, "", err
	}
	return desc, diff.Digest(), nil
}
