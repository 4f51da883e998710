package unpack

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/berth-project/berth/internal/content"
	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/image"
	"github.com/berth-project/berth/internal/snapshot"
)

// Options tune Unpack.
type Options struct {
	// Fetch brings a missing blob into the content store. Nil means every
	// layer Unpack needs must be in the store already.
	Fetch Fetcher
	// Parallel bounds the concurrent fetches (DefaultParallel if zero).
	Parallel int
	// Progress, if set, receives the events of every layer.
	Progress Progress
	// LockDir holds the lock files of the unpacks in progress, one per
	// layer being applied (required; one directory per snapshotter root,
	// shared by every process unpacking into it; created if missing).
	LockDir string
	// AllowDevices lets layers create device nodes.
	AllowDevices bool
	// MaxLayerBytes bounds one layer's uncompressed size
	// (archive.ApplyOptions.MaxBytes: zero means archive.DefaultMaxBytes).
	MaxLayerBytes int64
}

// Unpack makes sure the snapshot chain of layers exists in sn: one
// committed snapshot per layer, named by its chain ID
// (image.ChainIDs(diffIDs)), and returns the top chain ID ("" for no
// layers).
//
// It starts from the top: the highest chain ID that exists already is
// kept, and only the layers above it are fetched and applied, so the
// shared bottom layers of a second image cost one Stat. The needed blobs are
// fetched in parallel (opts.Parallel) and applied in order, each as soon as
// it and the layers below it are in place. Each layer's blob is hashed
// while it is read and must match its descriptor, and its uncompressed tar
// must match its diffID; otherwise Unpack fails with
// errdefs.ErrInvalidArgument naming the layer, and removes the active
// snapshot. Several Unpacks of the same layers, from goroutines or
// processes sharing opts.LockDir, apply each layer once; the others wait
// and find it committed.
func Unpack(ctx context.Context, cs *content.Store, sn snapshot.Snapshotter, layers []ocispec.Descriptor, diffIDs []digest.Digest, opts Options) (digest.Digest, error) {
	if len(layers) != len(diffIDs) {
		return "", fmt.Errorf("unpack %d layers with %d diffIDs: %w", len(layers), len(diffIDs), errdefs.ErrInvalidArgument)
	}
	if opts.LockDir == "" {
		return "", fmt.Errorf("unpack: no lock directory: %w", errdefs.ErrInvalidArgument)
	}
	if len(layers) == 0 {
		return "", nil
	}
	for i, d := range diffIDs {
		if err := d.Validate(); err != nil {
			return "", fmt.Errorf("layer %d: diffID %q: %w: %w", i, d, err, errdefs.ErrInvalidArgument)
		}
	}
	chain := image.ChainIDs(diffIDs)
	top := chain[len(chain)-1]
	rep := &reporter{fn: opts.Progress}

	start, err := firstMissing(ctx, sn, chain)
	if err != nil {
		return "", err
	}
	for _, l := range layers[:start] {
		rep.report(Event{Layer: l, Phase: AlreadyExists})
	}
	if start == len(layers) {
		return top, nil
	}
	for i, l := range layers[start:] {
		if err := checkMediaType(l); err != nil {
			return "", fmt.Errorf("unpack layer %d: %w", start+i, err)
		}
	}
	// Absolute: the path goes into the snapshot's label for Cleanup.
	if opts.LockDir, err = filepath.Abs(opts.LockDir); err != nil {
		return "", fmt.Errorf("unpack: lock directory: %w", err)
	}
	if err := os.MkdirAll(opts.LockDir, 0o700); err != nil {
		return "", fmt.Errorf("unpack: lock directory: %w", err)
	}
	for _, l := range layers[start:] {
		rep.report(Event{Layer: l, Phase: Waiting, Total: l.Size})
	}

	// A failed fetch cancels the whole unpack at once, as its cause.
	ctx, cancel := context.WithCancelCause(ctx)
	parallel := opts.Parallel
	if parallel <= 0 {
		parallel = DefaultParallel
	}
	blobs, wait := fetchAll(ctx, cs, layers[start:], opts.Fetch, parallel, rep, cancel)
	defer wait() // after cancel: no fetch outlives Unpack
	defer cancel(nil)

	a := &applier{cs: cs, sn: sn, opts: opts, rep: rep}
	for i := start; i < len(layers); i++ {
		j := layerJob{desc: layers[i], diffID: diffIDs[i], chainID: chain[i]}
		if i > 0 {
			j.parent = chain[i-1]
		}
		f := blobs[i-start]
		phase := Downloading
		var err error
		select {
		case <-f.done:
			if err = f.err; err == nil {
				phase = Extracting
				err = a.apply(ctx, j)
			}
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			err = context.Cause(ctx) // the first failure, not the cancellation it caused
		}
		if err != nil {
			rep.report(Event{Layer: j.desc, Phase: phase, Err: err})
			return "", fmt.Errorf("unpack layer %d: %w", i, err)
		}
		rep.report(Event{Layer: j.desc, Phase: Done, Current: j.desc.Size, Total: j.desc.Size})
	}
	return top, nil
}

// firstMissing returns the index of the lowest layer above the highest
// chain ID that exists (len(chain) if the top exists).
func firstMissing(ctx context.Context, sn snapshot.Snapshotter, chain []digest.Digest) (int, error) {
	for i := len(chain) - 1; i >= 0; i-- {
		info, err := sn.Stat(ctx, chain[i].String())
		switch {
		case err == nil && info.Kind == snapshot.KindCommitted:
			return i + 1, nil
		case err == nil:
			return 0, fmt.Errorf("snapshot %s is %s, not committed: %w", chain[i], info.Kind, errdefs.ErrFailedPrecondition)
		case !errors.Is(err, errdefs.ErrNotFound):
			return 0, fmt.Errorf("snapshot %s: %w", chain[i], err)
		}
	}
	return 0, nil
}
