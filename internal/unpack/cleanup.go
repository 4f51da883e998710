package unpack

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/snapshot"
)

// Cleanup removes the active snapshots that unpacks left behind when their
// process died mid-layer (kill -9, a crash, a reboot). An unpack holds the
// lock file named by the snapshot's LabelLock for as long as its active
// snapshot exists, so a snapshot whose lock nobody holds is stale; those of
// live unpacks, in this process or another, are left alone. It returns the
// keys it removed. The engine calls it before pulls and when pruning.
func Cleanup(ctx context.Context, sn snapshot.Snapshotter) ([]string, error) {
	var candidates []snapshot.Info
	err := sn.Walk(ctx, func(info snapshot.Info) error {
		if info.Kind == snapshot.KindActive && strings.HasPrefix(info.Key, extractPrefix) && info.Labels[LabelLock] != "" {
			candidates = append(candidates, info)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("unpack cleanup: %w", err)
	}
	var removed []string
	var errs []error
	for _, info := range candidates {
		ok, err := removeStale(ctx, sn, info)
		if err != nil {
			errs = append(errs, err)
		}
		if ok {
			removed = append(removed, info.Key)
		}
	}
	return removed, errors.Join(errs...)
}

// removeStale removes the active snapshot info unless an unpack holds its
// lock. Holding the lock meanwhile keeps a new unpack of the same layer
// from starting until the stale snapshot is gone.
func removeStale(ctx context.Context, sn snapshot.Snapshotter, info snapshot.Info) (bool, error) {
	lk, held, err := tryLock(info.Labels[LabelLock], false)
	if err != nil {
		return false, fmt.Errorf("unpack cleanup of %s: %w", info.Key, err)
	}
	if held {
		return false, nil
	}
	err = sn.Remove(ctx, info.Key)
	if lk != nil {
		err = errors.Join(err, lk.release())
	}
	if errors.Is(err, errdefs.ErrNotFound) {
		return false, nil // its unpack finished (committed or removed it) after the walk
	}
	if err != nil {
		return false, fmt.Errorf("unpack cleanup of %s: %w", info.Key, err)
	}
	return true, nil
}
