package unpack

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/berth-project/berth/internal/archive"
	"github.com/berth-project/berth/internal/content"
	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/linux/mount"
	"github.com/berth-project/berth/internal/snapshot"
)

// Labels of the active snapshots Unpack makes.
const (
	extractPrefix = "extract-"
	// LabelLock names the lock file an unpack holds for as long as the
	// active snapshot exists (Cleanup removes it once nobody holds it).
	LabelLock = "berth.unpack/lock"
)

// layerJob is one layer to apply on top of parent.
type layerJob struct {
	desc    ocispec.Descriptor
	diffID  digest.Digest
	chainID digest.Digest
	parent  digest.Digest // "" for the first layer
}

// applier applies layers for one Unpack.
type applier struct {
	cs   *content.Store
	sn   snapshot.Snapshotter
	opts Options
	rep  *reporter
}

// apply makes sure the snapshot j.chainID exists: under the chain's lock,
// it prepares an active snapshot on j.parent, applies the layer, verifies
// it and commits it. On failure the active snapshot is removed.
func (a *applier) apply(ctx context.Context, j layerJob) (err error) {
	lk, err := lock(ctx, chainLockPath(a.opts.LockDir, j.chainID))
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, lk.release()) }()
	// Another unpack may have committed it while we waited.
	if _, err := a.sn.Stat(ctx, j.chainID.String()); err == nil {
		a.rep.report(Event{Layer: j.desc, Phase: AlreadyExists})
		return nil
	} else if !errors.Is(err, errdefs.ErrNotFound) {
		return err
	}

	key, err := extractKey()
	if err != nil {
		return err
	}
	ms, err := a.sn.Prepare(ctx, key, j.parent.String(), map[string]string{LabelLock: lk.path})
	if err != nil {
		return err
	}
	committed := false
	defer func() {
		if !committed {
			// The caller's ctx may be what failed: clean up regardless.
			if rerr := a.sn.Remove(context.WithoutCancel(ctx), key); rerr != nil && !errors.Is(rerr, errdefs.ErrNotFound) {
				err = errors.Join(err, fmt.Errorf("remove active snapshot %s: %w", key, rerr))
			}
		}
	}()
	if err := a.extract(ctx, j, ms); err != nil {
		return err
	}
	a.rep.report(Event{Layer: j.desc, Phase: Verifying, Current: j.desc.Size, Total: j.desc.Size})
	err = a.sn.Commit(ctx, j.chainID.String(), key, nil)
	if errors.Is(err, errdefs.ErrAlreadyExists) {
		return nil // someone else (not sharing our lock dir) made it: ours goes
	}
	if err != nil {
		return err
	}
	committed = true
	return nil
}

// extract applies the layer's blob to the active snapshot described by ms
// and checks both digests. The mount (if any) is gone when it returns.
func (a *applier) extract(ctx context.Context, j layerJob, ms []mount.Mount) error {
	root, unmount, err := applyTarget(ms)
	if err != nil {
		return err
	}
	defer unmount()
	blob, err := a.cs.Open(j.desc.Digest)
	if err != nil {
		return err
	}
	defer blob.Close()

	blobHash, err := newHash(j.desc.Digest)
	if err != nil {
		return err
	}
	diffHash, err := newHash(j.diffID)
	if err != nil {
		return err
	}
	in := &progressReader{r: io.TeeReader(blob, blobHash), desc: j.desc, rep: a.rep}
	a.rep.report(Event{Layer: j.desc, Phase: Extracting, Total: j.desc.Size})
	applyErr := a.applyStream(ctx, root, in, diffHash)
	if ctx.Err() != nil {
		return applyErr
	}
	// The tar's end is not the blob's: read the rest (compression trailer,
	// padding) so that the blob's digest covers all of it.
	if _, err := io.Copy(io.Discard, in); err != nil {
		return errors.Join(applyErr, fmt.Errorf("read blob %s: %w", j.desc.Digest, err))
	}
	if got := digest.NewDigest(j.desc.Digest.Algorithm(), blobHash); got != j.desc.Digest || in.n != j.desc.Size {
		return fmt.Errorf("layer %s: blob in the content store is %s (%d bytes), want the descriptor's (%d bytes): %w",
			j.desc.Digest, got, in.n, j.desc.Size, errdefs.ErrInvalidArgument)
	}
	if applyErr != nil {
		return fmt.Errorf("layer %s: %w", j.desc.Digest, applyErr)
	}
	if got := digest.NewDigest(j.diffID.Algorithm(), diffHash); got != j.diffID {
		return fmt.Errorf("layer %s: uncompressed content is %s, want diffID %s: %w", j.desc.Digest, got, j.diffID, errdefs.ErrInvalidArgument)
	}
	return unmount()
}

// applyStream decompresses in and applies it to root, hashing the tar
// stream into diffHash.
func (a *applier) applyStream(ctx context.Context, root string, in io.Reader, diffHash hash.Hash) error {
	tr, err := archive.Decompress(in)
	if err != nil {
		return err
	}
	defer tr.Close()
	_, err = archive.Apply(ctx, root, io.TeeReader(tr, diffHash), archive.ApplyOptions{
		MaxBytes:     a.opts.MaxLayerBytes,
		AllowDevices: a.opts.AllowDevices,
	})
	return err
}

// applyTarget returns the directory to apply a layer to for the mounts of
// an active snapshot, and how to let go of it (idempotent).
//
// A single bind mount (the native snapshotter, or overlay's first layer) is
// applied to its source directory as it is: nothing lies below it. An
// overlay mount is mounted detached, and the layer is applied to the merged
// view, where overlayfs turns deletions into whiteouts and copies up the
// lower directories that gain entries (see the package doc for why not the
// upper directory directly). The detached mount lives only as long as its
// descriptor, so a process killed mid-apply leaves no mount behind.
func applyTarget(ms []mount.Mount) (string, func() error, error) {
	if len(ms) != 1 {
		return "", nil, fmt.Errorf("apply to %d mounts: want one: %w", len(ms), errdefs.ErrNotImplemented)
	}
	m := ms[0]
	switch {
	case m.Type == "bind" || mount.ParseOptions(m.Options).Bind():
		return m.Source, func() error { return nil }, nil
	case m.Type == "overlay":
		f, err := mount.Detached(m)
		if err != nil {
			return "", nil, err
		}
		var closed bool
		return fmt.Sprintf("/proc/self/fd/%d", f.Fd()), func() error {
			if closed {
				return nil
			}
			closed = true
			return f.Close()
		}, nil
	}
	return "", nil, fmt.Errorf("apply to a %q mount: %w", m.Type, errdefs.ErrNotImplemented)
}

// newHash returns a hash for digests like d.
func newHash(d digest.Digest) (hash.Hash, error) {
	if err := d.Validate(); err != nil {
		return nil, fmt.Errorf("digest %q: %w: %w", d, err, errdefs.ErrInvalidArgument)
	}
	return d.Algorithm().Hash(), nil
}

// extractKey returns a fresh key for an active snapshot.
func extractKey() (string, error) {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("extract key: %w", err)
	}
	return extractPrefix + hex.EncodeToString(b), nil
}

// progressReader counts the compressed bytes read and reports them now and
// then as Extracting events.
type progressReader struct {
	r    io.Reader
	n    int64
	desc ocispec.Descriptor
	rep  *reporter
	last time.Time
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.n += int64(n)
	if p.rep.fn == nil {
		return n, err
	}
	if now := time.Now(); now.Sub(p.last) >= progressInterval {
		p.last = now
		p.rep.report(Event{Layer: p.desc, Phase: Extracting, Current: p.n, Total: p.desc.Size})
	}
	return n, err
}
