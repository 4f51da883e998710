package storage

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/berth-project/berth/internal/errdefs"
)

// dbTimeout bounds the wait for bbolt's own lock; the root's lock file is
// taken first, so bbolt's is normally free at once.
const dbTimeout = 30 * time.Second

var (
	bucketV1        = []byte("v1")
	bucketSnapshots = []byte("snapshots")
)

// Store is the record of one snapshotter root. It keeps nothing open
// between calls and is safe for concurrent use by goroutines and by
// processes sharing the root.
type Store struct {
	root string
}

// Open opens (creating it if needed) the store under root and removes what
// a crashed process left half made (see the package doc).
func Open(root string) (*Store, error) {
	if root == "" {
		return nil, fmt.Errorf("snapshot root: empty path: %w", errdefs.ErrInvalidArgument)
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("snapshot root %s: %w", root, err)
	}
	s := &Store{root: abs}
	if err := os.MkdirAll(s.snapshotsDir(), 0o700); err != nil {
		return nil, fmt.Errorf("snapshot root %s: %w", abs, err)
	}
	// Write only when there is something to write: a first Open makes the
	// buckets, and garbage is collected only when the directory holds
	// some. Most opens (every short berth command) just read.
	if _, err := os.Stat(s.dbPath()); err != nil {
		if err := s.update(context.Background(), func(b *bolt.Bucket) error { return nil }); err != nil {
			return nil, err
		}
	}
	dirty, err := s.hasGarbage()
	if err != nil {
		return nil, err
	}
	if dirty {
		if err := s.collectGarbage(); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Root returns the store's root directory.
func (s *Store) Root() string { return s.root }

// Dir returns the directory of the snapshot with id.
func (s *Store) Dir(id uint64) string {
	return filepath.Join(s.snapshotsDir(), strconv.FormatUint(id, 10))
}

func (s *Store) snapshotsDir() string { return filepath.Join(s.root, "snapshots") }
func (s *Store) dbPath() string       { return filepath.Join(s.root, "metadata.db") }
func (s *Store) lockPath() string     { return filepath.Join(s.root, "lock") }

// view runs fn in a read transaction on the snapshots bucket.
func (s *Store) view(ctx context.Context, fn func(*bolt.Bucket) error) error {
	db, unlock, err := s.openDB(ctx, false)
	if err != nil {
		return err
	}
	defer unlock()
	defer db.Close()
	return db.View(func(tx *bolt.Tx) error {
		v1 := tx.Bucket(bucketV1)
		if v1 == nil {
			return fn(nil)
		}
		return fn(v1.Bucket(bucketSnapshots))
	})
}

// update runs fn in a write transaction on the snapshots bucket.
func (s *Store) update(ctx context.Context, fn func(*bolt.Bucket) error) error {
	return s.updateThen(ctx, fn, nil)
}

// updateThen runs fn in a write transaction and, once it has committed,
// after while the database is still held (so no other process sees the
// state between the two).
func (s *Store) updateThen(ctx context.Context, fn func(*bolt.Bucket) error, after func() error) error {
	db, unlock, err := s.openDB(ctx, true)
	if err != nil {
		return err
	}
	defer unlock()
	defer db.Close()
	err = db.Update(func(tx *bolt.Tx) error {
		v1, err := tx.CreateBucketIfNotExists(bucketV1)
		if err != nil {
			return fmt.Errorf("snapshot metadata: %w", err)
		}
		b, err := v1.CreateBucketIfNotExists(bucketSnapshots)
		if err != nil {
			return fmt.Errorf("snapshot metadata: %w", err)
		}
		return fn(b)
	})
	if err != nil || after == nil {
		return err
	}
	return after()
}

// openDB takes the root's lock (exclusive to write) and opens the database.
// The caller closes the database, then calls unlock.
func (s *Store) openDB(ctx context.Context, write bool) (*bolt.DB, func(), error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	lf, err := os.OpenFile(s.lockPath(), os.O_RDWR|os.O_CREATE|syscall.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("snapshot metadata lock: %w", err)
	}
	how := syscall.LOCK_SH
	if write {
		how = syscall.LOCK_EX
	}
	if err := flock(lf, how); err != nil {
		lf.Close()
		return nil, nil, fmt.Errorf("snapshot metadata lock %s: %w", s.lockPath(), err)
	}
	unlock := func() { lf.Close() }
	db, err := bolt.Open(s.dbPath(), 0o600, &bolt.Options{Timeout: dbTimeout, ReadOnly: !write})
	if err != nil {
		unlock()
		if errors.Is(err, bolterrors.ErrTimeout) {
			return nil, nil, fmt.Errorf("snapshot metadata %s: locked by another process: %w", s.dbPath(), errdefs.ErrUnavailable)
		}
		return nil, nil, fmt.Errorf("snapshot metadata %s: %w", s.dbPath(), err)
	}
	return db, unlock, nil
}

// flock takes a flock(2), retrying when a signal interrupts the wait.
func flock(f *os.File, how int) error {
	for {
		err := syscall.Flock(int(f.Fd()), how)
		if err != syscall.EINTR {
			return err
		}
	}
}
