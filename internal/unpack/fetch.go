package unpack

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/berth-project/berth/internal/content"
	"github.com/berth-project/berth/internal/errdefs"
)

// Fetcher makes sure the blob of desc is in the content store, downloading
// it if needed. Unpack calls it from several goroutines at once (never twice
// for one digest in one Unpack), only for blobs the store lacks.
type Fetcher func(ctx context.Context, desc ocispec.Descriptor) error

// DefaultParallel is the number of concurrent fetches when
// Options.Parallel is zero.
const DefaultParallel = 3

// fetched is the outcome of one blob's fetch; done closes when err is set.
type fetched struct {
	done chan struct{}
	err  error
}

// fetchAll fetches the blobs of layers, at most parallel at a time, in
// layer order (so that the layer applied next is the one fetched first),
// each digest once. It returns one outcome per layer; wait returns once
// every fetch has ended.
// The first failure cancels ctx through cancel, with the error as cause.
func fetchAll(ctx context.Context, cs *content.Store, layers []ocispec.Descriptor, fetch Fetcher, parallel int, rep *reporter, cancel context.CancelCauseFunc) (out []*fetched, wait func()) {
	byDigest := map[digest.Digest]*fetched{}
	var todo []ocispec.Descriptor
	for _, l := range layers {
		f, ok := byDigest[l.Digest]
		if !ok {
			f = &fetched{done: make(chan struct{})}
			byDigest[l.Digest] = f
			todo = append(todo, l)
		}
		out = append(out, f)
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, parallel)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for _, l := range todo {
			f := byDigest[l.Digest]
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				f.err = ctx.Err()
				close(f.done)
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				f.err = fetchOne(ctx, cs, l, fetch, rep)
				if f.err != nil {
					cancel(f.err)
				}
				close(f.done)
			}()
		}
	}()
	return out, wg.Wait
}

// fetchOne makes sure the blob of l is in the store.
func fetchOne(ctx context.Context, cs *content.Store, l ocispec.Descriptor, fetch Fetcher, rep *reporter) error {
	info, err := cs.Info(l.Digest)
	if err == nil {
		return checkSize(l, info.Size)
	}
	if !errors.Is(err, errdefs.ErrNotFound) {
		return fmt.Errorf("layer %s: %w", l.Digest, err)
	}
	if fetch == nil {
		return fmt.Errorf("layer %s: blob not in the content store, and no fetcher: %w", l.Digest, errdefs.ErrNotFound)
	}
	rep.report(Event{Layer: l, Phase: Downloading, Total: l.Size})
	if err := fetch(ctx, l); err != nil {
		return fmt.Errorf("fetch layer %s: %w", l.Digest, err)
	}
	info, err = cs.Info(l.Digest)
	if err != nil {
		return fmt.Errorf("layer %s after its fetch: %w", l.Digest, err)
	}
	return checkSize(l, info.Size)
}

func checkSize(l ocispec.Descriptor, size int64) error {
	if size != l.Size {
		return fmt.Errorf("layer %s: blob of %d bytes, descriptor says %d: %w", l.Digest, size, l.Size, errdefs.ErrInvalidArgument)
	}
	return nil
}
