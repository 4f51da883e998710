package storage

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	bolt "go.etcd.io/bbolt"
)

// collectGarbage removes what crashed processes left: numeric directories
// without a record and tmp-* directories no live process holds. It lists
// the directories while holding the database, so no snapshot is caught
// between its rename and its commit.
func (s *Store) collectGarbage() error {
	return s.sweep()
}

// hasGarbage reports, reading only, whether collectGarbage has anything to
// look at: a tmp-* directory (made or removed by some process, live or
// not) or a snapshot directory without a record.
func (s *Store) hasGarbage() (bool, error) {
	entries, err := os.ReadDir(s.snapshotsDir())
	if err != nil {
		return false, fmt.Errorf("read %s: %w", s.snapshotsDir(), err)
	}
	var ids []uint64
	for _, e := range entries {
		if isTempName(e.Name()) {
			return true, nil
		}
		if id, err := strconv.ParseUint(e.Name(), 10, 64); err == nil {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return false, nil
	}
	recorded := map[uint64]bool{}
	err = s.view(context.Background(), func(b *bolt.Bucket) error {
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			sn, err := decodeRecord(string(k), v)
			if err != nil {
				return err
			}
			recorded[sn.ID] = true
			return nil
		})
	})
	if err != nil {
		return false, err
	}
	for _, id := range ids {
		if !recorded[id] {
			return true, nil
		}
	}
	return false, nil
}

// sweep removes the garbage (see collectGarbage).
func (s *Store) sweep() error {
	var doomed []*tempDir
	defer func() {
		for _, t := range doomed {
			t.release()
		}
	}()
	err := s.update(context.Background(), func(b *bolt.Bucket) error {
		recorded := map[uint64]bool{}
		err := b.ForEach(func(k, v []byte) error {
			sn, err := decodeRecord(string(k), v)
			if err != nil {
				return err
			}
			recorded[sn.ID] = true
			return nil
		})
		if err != nil {
			return err
		}
		entries, err := os.ReadDir(s.snapshotsDir())
		if err != nil {
			return fmt.Errorf("read %s: %w", s.snapshotsDir(), err)
		}
		for _, e := range entries {
			path := filepath.Join(s.snapshotsDir(), e.Name())
			if isTempName(e.Name()) {
				t, err := lockDir(path, true)
				if err != nil {
					return err
				}
				if t != nil {
					doomed = append(doomed, t)
				}
				continue
			}
			id, err := strconv.ParseUint(e.Name(), 10, 64)
			if err != nil || recorded[id] {
				continue
			}
			t, err := s.moveAside(path)
			if err != nil {
				return err
			}
			doomed = append(doomed, t)
		}
		return nil
	})
	if err != nil {
		return err
	}
	var errs []error
	for _, t := range doomed {
		errs = append(errs, t.removeAll())
	}
	return errors.Join(errs...)
}

// moveAside moves the directory at path into a fresh locked tmp-*
// directory, to delete it without holding the database.
func (s *Store) moveAside(path string) (*tempDir, error) {
	t, err := newTempDir(s.snapshotsDir())
	if err != nil {
		return nil, err
	}
	if err := os.Rename(path, filepath.Join(t.path, "data")); err != nil {
		_ = t.removeAll()
		return nil, fmt.Errorf("move %s aside: %w", path, err)
	}
	return t, nil
}
