package storage

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/snapshot"
)

// Get returns the snapshot key and its committed parents, nearest first.
func (s *Store) Get(ctx context.Context, key string) (Snapshot, []Snapshot, error) {
	if err := checkKey(key); err != nil {
		return Snapshot{}, nil, err
	}
	var (
		sn      Snapshot
		parents []Snapshot
	)
	err := s.view(ctx, func(b *bolt.Bucket) error {
		var err error
		if sn, err = get(b, key); err != nil {
			return err
		}
		parents, err = chain(b, sn.Info.Parent)
		return err
	})
	return sn, parents, err
}

// Commit turns the active snapshot key into the committed snapshot name,
// keeping its id and directory, and returns it.
func (s *Store) Commit(ctx context.Context, name, key string, labels map[string]string) (Snapshot, error) {
	if err := checkKey(name); err != nil {
		return Snapshot{}, err
	}
	if err := checkKey(key); err != nil {
		return Snapshot{}, err
	}
	var sn Snapshot
	err := s.update(ctx, func(b *bolt.Bucket) error {
		active, err := get(b, key)
		if err != nil {
			return err
		}
		if active.Info.Kind != snapshot.KindActive {
			return fmt.Errorf("commit snapshot %q: it is %s, not active: %w", key, active.Info.Kind, errdefs.ErrFailedPrecondition)
		}
		if b.Get([]byte(name)) != nil {
			return fmt.Errorf("commit snapshot %q as %q: %w", key, name, errdefs.ErrAlreadyExists)
		}
		sn = Snapshot{ID: active.ID, Info: snapshot.Info{
			Key:     name,
			Parent:  active.Info.Parent,
			Kind:    snapshot.KindCommitted,
			Created: time.Now().UTC(),
			Labels:  copyLabels(labels),
		}}
		v, err := encodeRecord(sn.record())
		if err != nil {
			return err
		}
		if err := b.Put([]byte(name), v); err != nil {
			return fmt.Errorf("commit snapshot %q: %w", key, err)
		}
		if err := b.Delete([]byte(key)); err != nil {
			return fmt.Errorf("commit snapshot %q: %w", key, err)
		}
		return nil
	})
	return sn, err
}

// Remove deletes the record of key, then its directory. A committed
// snapshot that is the parent of another is not removed.
func (s *Store) Remove(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	var (
		sn    Snapshot
		aside *tempDir
	)
	err := s.updateThen(ctx, func(b *bolt.Bucket) error {
		var err error
		if sn, err = get(b, key); err != nil {
			return err
		}
		err = b.ForEach(func(k, v []byte) error {
			child, err := decodeRecord(string(k), v)
			if err != nil {
				return err
			}
			if child.Info.Parent == key {
				return fmt.Errorf("remove snapshot %q: it is the parent of %q: %w", key, child.Info.Key, errdefs.ErrFailedPrecondition)
			}
			return nil
		})
		if err != nil {
			return err
		}
		if err := b.Delete([]byte(key)); err != nil {
			return fmt.Errorf("remove snapshot %q: %w", key, err)
		}
		return nil
	}, func() error {
		// Committed: from here on a crash leaves an unrecorded numeric
		// directory, which Open removes.
		var err error
		aside, err = s.moveAside(s.Dir(sn.ID))
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return err
	})
	if err != nil {
		return err
	}
	if aside != nil {
		if err := aside.removeAll(); err != nil {
			return fmt.Errorf("remove snapshot %q: %w", key, err)
		}
	}
	return nil
}

// Walk calls fn for every snapshot. The database is not held while fn
// runs, so fn may call the store.
func (s *Store) Walk(ctx context.Context, fn func(Snapshot) error) error {
	var all []Snapshot
	err := s.view(ctx, func(b *bolt.Bucket) error {
		return b.ForEach(func(k, v []byte) error {
			sn, err := decodeRecord(string(k), v)
			if err != nil {
				return err
			}
			all = append(all, sn)
			return nil
		})
	})
	if err != nil {
		return err
	}
	for _, sn := range all {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(sn); err != nil {
			return err
		}
	}
	return nil
}

func get(b *bolt.Bucket, key string) (Snapshot, error) {
	v := b.Get([]byte(key))
	if v == nil {
		return Snapshot{}, fmt.Errorf("snapshot %q: %w", key, errdefs.ErrNotFound)
	}
	return decodeRecord(key, v)
}
