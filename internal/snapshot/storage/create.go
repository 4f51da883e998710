package storage

import (
	"context"
	"fmt"
	"os"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/snapshot"
)

// FillFunc fills the directory of a new snapshot, given its committed
// parents, nearest first.
type FillFunc func(dir string, parents []Snapshot) error

// Create records a new active snapshot or view key on top of the committed
// snapshot parent ("" for none). fill fills its directory first, outside
// the database's lock; then the record is written and the directory moved
// into place in one transaction. It returns the new snapshot and its
// parents, nearest first.
func (s *Store) Create(ctx context.Context, kind snapshot.Kind, key, parent string, labels map[string]string, fill FillFunc) (Snapshot, []Snapshot, error) {
	if kind != snapshot.KindActive && kind != snapshot.KindView {
		return Snapshot{}, nil, fmt.Errorf("snapshot %q: create a %s snapshot: %w", key, kind, errdefs.ErrInvalidArgument)
	}
	if err := checkKey(key); err != nil {
		return Snapshot{}, nil, err
	}
	// Fail early, before any copying, on what is already known to be wrong.
	var parents []Snapshot
	err := s.view(ctx, func(b *bolt.Bucket) error {
		if b.Get([]byte(key)) != nil {
			return fmt.Errorf("snapshot %q: %w", key, errdefs.ErrAlreadyExists)
		}
		var err error
		parents, err = chain(b, parent)
		return err
	})
	if err != nil {
		return Snapshot{}, nil, err
	}

	td, err := newTempDir(s.snapshotsDir())
	if err != nil {
		return Snapshot{}, nil, err
	}
	moved := false
	defer func() {
		if !moved {
			_ = td.removeAll()
		}
		td.release()
	}()
	if err := fill(td.path, parents); err != nil {
		// A parent removed meanwhile explains the failure better.
		if gone := s.checkChain(ctx, key, parent, parents); gone != nil {
			return Snapshot{}, nil, gone
		}
		return Snapshot{}, nil, fmt.Errorf("snapshot %q: %w", key, err)
	}

	sn := Snapshot{Info: snapshot.Info{
		Key:     key,
		Parent:  parent,
		Kind:    kind,
		Created: time.Now().UTC(),
		Labels:  copyLabels(labels),
	}}
	var stale *tempDir
	defer func() {
		if stale != nil {
			_ = stale.removeAll()
		}
	}()
	err = s.update(ctx, func(b *bolt.Bucket) error {
		if b.Get([]byte(key)) != nil {
			return fmt.Errorf("snapshot %q: %w", key, errdefs.ErrAlreadyExists)
		}
		if err := chainIs(b, key, parent, parents); err != nil {
			return err
		}
		if sn.ID, err = b.NextSequence(); err != nil {
			return fmt.Errorf("snapshot %q: allocate an id: %w", key, err)
		}
		v, err := encodeRecord(sn.record())
		if err != nil {
			return err
		}
		if err := b.Put([]byte(key), v); err != nil {
			return fmt.Errorf("snapshot %q: record: %w", key, err)
		}
		// Renamed before the commit: a crash in between leaves a numeric
		// directory without a record, which Open removes. Until then the
		// next id is that same one (the crashed transaction never
		// advanced the sequence), so a directory in the way is garbage.
		if _, err := os.Lstat(s.Dir(sn.ID)); err == nil {
			if stale, err = s.moveAside(s.Dir(sn.ID)); err != nil {
				return err
			}
		}
		if err := os.Rename(td.path, s.Dir(sn.ID)); err != nil {
			return fmt.Errorf("snapshot %q: move into place: %w", key, err)
		}
		moved = true
		return nil
	})
	if err != nil {
		if moved {
			// The transaction failed after the rename: take the directory back.
			if os.Rename(s.Dir(sn.ID), td.path) == nil {
				moved = false
			}
		}
		return Snapshot{}, nil, err
	}
	return sn, parents, nil
}

// chain returns the committed snapshot parent and its ancestors, nearest
// first ("" has none).
func chain(b *bolt.Bucket, parent string) ([]Snapshot, error) {
	var out []Snapshot
	for name := parent; name != ""; {
		v := b.Get([]byte(name))
		if v == nil {
			return nil, fmt.Errorf("parent snapshot %q: %w", name, errdefs.ErrNotFound)
		}
		sn, err := decodeRecord(name, v)
		if err != nil {
			return nil, err
		}
		if sn.Info.Kind != snapshot.KindCommitted {
			return nil, fmt.Errorf("parent snapshot %q is %s, not committed: %w", name, sn.Info.Kind, errdefs.ErrFailedPrecondition)
		}
		if len(out) > 10000 {
			return nil, fmt.Errorf("parent snapshot %q: chain too long (a cycle?)", parent)
		}
		out = append(out, sn)
		name = sn.Info.Parent
	}
	return out, nil
}

// checkChain tells whether parent's chain is still parents.
func (s *Store) checkChain(ctx context.Context, key, parent string, parents []Snapshot) error {
	return s.view(ctx, func(b *bolt.Bucket) error { return chainIs(b, key, parent, parents) })
}

// chainIs fails unless parent's chain is still parents (the parent may
// have been removed, or removed and made again, since they were read).
func chainIs(b *bolt.Bucket, key, parent string, parents []Snapshot) error {
	now, err := chain(b, parent)
	if err != nil {
		return err
	}
	if !sameChain(now, parents) {
		return fmt.Errorf("snapshot %q: parent %q changed while it was being prepared: %w", key, parent, errdefs.ErrFailedPrecondition)
	}
	return nil
}

func sameChain(a, b []Snapshot) bool {
	return slices.EqualFunc(a, b, func(x, y Snapshot) bool { return x.ID == y.ID })
}

func checkKey(key string) error {
	if key == "" {
		return fmt.Errorf("snapshot key: empty: %w", errdefs.ErrInvalidArgument)
	}
	return nil
}
