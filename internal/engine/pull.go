package engine

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/image"
	"github.com/berth-project/berth/internal/reference"
	"github.com/berth-project/berth/internal/store"
	"github.com/berth-project/berth/internal/unpack"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// PullOptions tune a pull.
type PullOptions struct {
	// Platform is "os/arch[/variant]"; "" means linux/<host arch>.
	Platform string
	// Progress, if set, hears of every layer's download and unpack.
	Progress func(unpack.Event)
}

// PullResult is what a pull recorded.
type PullResult struct {
	Ref   reference.Reference
	Image store.Image
	// Updated is false when the name already named this very image.
	Updated bool
}

// Pull fetches the image name from its registry, unpacks its layers and
// records it under its full name (and, when pulled by digest, under
// repository@digest). Blobs and snapshots already present are reused.
func (e *Engine) Pull(ctx context.Context, name string, opts PullOptions) (PullResult, error) {
	ref, err := reference.Parse(name)
	if err != nil {
		return PullResult{}, err
	}
	if err := e.cleanupUnpacks(ctx); err != nil {
		return PullResult{}, err
	}
	got, err := e.registry.Manifest(ctx, ref, opts.Platform)
	if err != nil {
		return PullResult{}, fmt.Errorf("pull %s: %w", ref.Familiar(), err)
	}
	cfg, err := image.ParseConfig(got.RawConfig, got.Manifest)
	if err != nil {
		return PullResult{}, fmt.Errorf("pull %s: %w", ref.Familiar(), err)
	}
	// The pull's own root keeps what it fetches alive until the image
	// record (and its root) exists: every blob by digest, so that a GC in
	// another process spares them even before the manifest is stored, and
	// every snapshot by chain ID, so that GC spares the layers it unpacks
	// or finds unpacked.
	held := []digest.Digest{got.Descriptor.Digest, got.Manifest.Config.Digest}
	for _, l := range got.Manifest.Layers {
		held = append(held, l.Digest)
	}
	held = append(held, image.ChainIDs(cfg.RootFS.DiffIDs)...)
	release, err := e.holdContent(held...)
	if err != nil {
		return PullResult{}, err
	}
	defer release()
	if err := e.putBlob(got.Descriptor, got.RawManifest); err != nil {
		return PullResult{}, err
	}
	if err := e.putBlob(got.Manifest.Config, got.RawConfig); err != nil {
		return PullResult{}, err
	}
	_, err = e.unpack(ctx, got.Manifest.Layers, cfg.RootFS.DiffIDs, unpack.Options{
		Fetch: func(ctx context.Context, desc ocispec.Descriptor) error {
			if opts.Progress == nil {
				return e.registry.Ingest(ctx, e.content, ref, desc)
			}
			return e.registry.IngestProgress(ctx, e.content, ref, desc, func(n int64) {
				opts.Progress(unpack.Event{Layer: desc, Phase: unpack.Downloading, Current: n, Total: desc.Size})
			})
		},
		Progress: opts.Progress,
	})
	if err != nil {
		return PullResult{}, fmt.Errorf("pull %s: %w", ref.Familiar(), err)
	}
	size, err := e.imageSize(ctx, got.Manifest.Config.Digest, cfg.RootFS.DiffIDs)
	if err != nil {
		return PullResult{}, err
	}
	img := store.Image{
		Size:     size,
		Name:     ref.String(),
		Target:   got.Descriptor,
		Manifest: got.Descriptor.Digest,
		Config:   got.Manifest.Config.Digest,
		Created:  time.Now().UTC(),
	}
	if got.Target.Digest != got.Descriptor.Digest {
		img.Labels = map[string]string{LabelIndexDigest: got.Target.Digest.String()}
	}
	updated, err := e.recordImage(img)
	if err != nil {
		return PullResult{}, err
	}
	return PullResult{Ref: ref, Image: img, Updated: updated}, e.imageEvent(nil, ref.Familiar(), stripTag(ref.Familiar()), "pull")
}

// LabelIndexDigest records, on an image pulled through an index, the
// index's digest: the repository digest docker shows.
const LabelIndexDigest = "berth.image.index-digest"

// unpack unpacks layers with the engine's snapshotter and content store.
func (e *Engine) unpack(ctx context.Context, layers []ocispec.Descriptor, diffIDs []digest.Digest, opts unpack.Options) (digest.Digest, error) {
	opts.LockDir = filepath.Join(e.cfg.RunRoot, "unpack", e.driver)
	return unpack.Unpack(ctx, e.content, e.snap, layers, diffIDs, opts)
}

// cleanupUnpacks removes what unpacks killed mid-way left behind.
func (e *Engine) cleanupUnpacks(ctx context.Context) error {
	_, err := unpack.Cleanup(ctx, e.snap)
	return err
}

// putBlob stores a small verified document (manifest, config, index).
func (e *Engine) putBlob(desc ocispec.Descriptor, b []byte) error {
	if _, err := e.content.Info(desc.Digest); err == nil {
		return nil
	}
	w, err := e.content.Writer(desc.Digest.String(), desc.Digest, int64(len(b)))
	if errdefs.IsAlreadyExists(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("store %s: %w", desc.Digest, err)
	}
	if _, err := w.Write(b); err != nil {
		w.Discard()
		return fmt.Errorf("store %s: %w", desc.Digest, err)
	}
	if err := w.Commit(); err != nil && !errdefs.IsAlreadyExists(err) {
		return fmt.Errorf("store %s: %w", desc.Digest, err)
	}
	return nil
}

// holdContent keeps ds — blobs (and what they reach) and snapshots by
// chain ID — from GC until release.
func (e *Engine) holdContent(ds ...digest.Digest) (release func(), err error) {
	name := pullRoot()
	unlock, err := e.lockGC(false)
	if err != nil {
		return nil, err
	}
	err = e.content.AddRoot(name, ds...)
	unlock()
	if err != nil {
		return nil, err
	}
	return func() { _ = e.content.RemoveRoot(name) }, nil
}

// recordImage makes img's root and record; it reports whether the name
// named something else before.
func (e *Engine) recordImage(img store.Image) (updated bool, err error) {
	if err := e.content.AddRoot(imageRoot(img.Target.Digest), img.Target.Digest); err != nil {
		return false, err
	}
	if img.Dangling() {
		return e.recordDangling(img)
	}
	err = e.db.Update(func(tx *store.Tx) error {
		old, err := tx.Image(img.Name)
		switch {
		case err == nil:
			updated = old.Target.Digest != img.Target.Digest
			if !updated {
				img.Created = old.Created
			}
		case errdefs.IsNotFound(err):
			updated = true
		default:
			return err
		}
		return tx.PutImage(img)
	})
	return updated, err
}

// recordDangling records img, which has no name; when an image of its
// config is there already, it records nothing and drops the root it took
// unless a record has that target.
func (e *Engine) recordDangling(img store.Image) (bool, error) {
	var recorded, keep bool
	err := e.db.Update(func(tx *store.Tx) (err error) {
		if recorded, err = tx.PutDangling(img); err != nil || recorded {
			return err
		}
		same, err := tx.ImagesByConfig(img.Config)
		keep = hasTarget(same, img.Target.Digest)
		return err
	})
	if err == nil && !recorded && !keep {
		if err := e.content.RemoveRoot(imageRoot(img.Target.Digest)); err != nil && !errdefs.IsNotFound(err) {
			return false, err
		}
	}
	return recorded, err
}

// imageRoot names the content root of the images whose target is d: one
// per distinct target, whatever names (or none, when dangling) it has.
func imageRoot(d digest.Digest) string { return "image/" + d.String() }

// imageSize is the disk usage of an image's layers: as recorded for
// another name of the same image (a warm pull need not walk thousands of
// files), or measured.
func (e *Engine) imageSize(ctx context.Context, id digest.Digest, diffIDs []digest.Digest) (int64, error) {
	var size int64 = -1
	_ = e.db.View(func(tx *store.Tx) error {
		if same, err := tx.ImagesByConfig(id); err == nil && len(same) > 0 {
			size = same[0].Size
		}
		return nil
	})
	if size > 0 {
		return size, nil
	}
	return e.layersSize(ctx, diffIDs)
}

// layersSize is the disk usage of the snapshots of a chain of layers.
func (e *Engine) layersSize(ctx context.Context, diffIDs []digest.Digest) (int64, error) {
	var n int64
	for _, id := range image.ChainIDs(diffIDs) {
		u, err := e.snap.Usage(ctx, id.String())
		if err != nil {
			return 0, fmt.Errorf("size of layer %s: %w", id, err)
		}
		n += u.Size
	}
	return n, nil
}
