package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/berth-project/berth/internal/errdefs"
	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// DefaultTimeout is how long a transaction waits for another process to let
// go of the database file before it fails with ErrUnavailable.
const DefaultTimeout = 30 * time.Second

// DB is the metadata store at one path. It holds no open file: every View and
// Update opens the bbolt file, runs one transaction and closes it again, so a
// process holds the file's lock only while a transaction runs, however long
// the process itself lives. A DB is safe for concurrent use by goroutines.
type DB struct {
	path    string
	timeout time.Duration
}

// Options tune Open. The zero value is the default.
type Options struct {
	// Timeout bounds the wait for the file lock in each transaction;
	// zero means DefaultTimeout.
	Timeout time.Duration
}

// Open returns the store at path, creating its parent directories (0700) and
// the file (0600) if need be, and bringing an older schema up to
// SchemaVersion. It leaves the file closed.
func Open(path string) (*DB, error) { return OpenOptions(path, Options{}) }

// OpenOptions is Open with options.
func OpenOptions(path string, o Options) (*DB, error) {
	if path == "" {
		return nil, fmt.Errorf("metadata store: empty path: %w", errdefs.ErrInvalidArgument)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("metadata store %s: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o700); err != nil {
		return nil, fmt.Errorf("metadata store %s: %w", abs, err)
	}
	db := &DB{path: abs, timeout: o.Timeout}
	if db.timeout <= 0 {
		db.timeout = DefaultTimeout
	}
	if err := db.migrate(); err != nil {
		return nil, err
	}
	return db, nil
}

// Path is the database file.
func (db *DB) Path() string { return db.path }

// View runs fn in a read-only transaction. Readers in other processes run at
// the same time; a writer waits for them, and they for it.
func (db *DB) View(fn func(*Tx) error) error {
	return db.run(false, fn)
}

// Update runs fn in one read-write transaction: if fn returns an error (or
// panics) nothing it wrote is kept, otherwise everything is, durably, once
// Update returns nil. Writers are serialised across processes.
func (db *DB) Update(fn func(*Tx) error) error {
	return db.run(true, fn)
}

func (db *DB) run(write bool, fn func(*Tx) error) error {
	return db.withBolt(!write, func(btx *bolt.Tx) error {
		tx := &Tx{tx: btx}
		if err := tx.checkVersion(db.path); err != nil {
			return err
		}
		return fn(tx)
	})
}

// withBolt opens the file, runs fn in one bbolt transaction and closes the
// file. Errors from fn come back as they are, and so do its panics; a panic
// raised inside bbolt, which is how bbolt meets a corrupt page, becomes an
// error naming the file (see boltPanicking).
func (db *DB) withBolt(readOnly bool, fn func(*bolt.Tx) error) (err error) {
	var file *os.File // bbolt's descriptor, to let go of the lock whatever happens
	completed := false
	defer func() {
		if completed {
			return
		}
		if file != nil {
			// bbolt's mapping of the file keeps its lock alive past a close,
			// so unlock explicitly (a no-op if bbolt already closed it).
			if rc, err := file.SyscallConn(); err == nil {
				rc.Control(func(fd uintptr) { syscall.Flock(int(fd), syscall.LOCK_UN) })
			}
			file.Close()
		}
		if boltPanicking() {
			err = fmt.Errorf("metadata store %s: corrupt (bbolt: %v): %w", db.path, recover(), errdefs.ErrFailedPrecondition)
		}
	}()
	start := time.Now()
	lock, err := lockTx(db.path, !readOnly, db.timeout)
	if err != nil {
		completed = true
		return err
	}
	defer lock.unlock()
	bdb, err := db.open(readOnly, max(db.timeout-time.Since(start), time.Millisecond), &file)
	if err != nil {
		completed = true
		return err
	}
	defer bdb.Close() // also when fn panics; closing twice is harmless
	if readOnly {
		err = bdb.View(fn)
	} else {
		err = bdb.Update(fn)
	}
	if err == nil {
		if cerr := bdb.Close(); cerr != nil {
			err = fmt.Errorf("metadata store %s: close: %w", db.path, cerr)
		}
	}
	completed = true
	return err
}

// open opens the bbolt file, waiting up to timeout for its lock (shared for
// readers, exclusive for writers), and classes bbolt's errors. file is set to
// bbolt's descriptor of it.
func (db *DB) open(readOnly bool, timeout time.Duration, file **os.File) (*bolt.DB, error) {
	bdb, err := bolt.Open(db.path, 0o600, &bolt.Options{
		Timeout:  timeout,
		ReadOnly: readOnly,
		OpenFile: func(name string, flag int, perm os.FileMode) (*os.File, error) {
			f, err := os.OpenFile(name, flag|syscall.O_CLOEXEC, perm)
			*file = f
			return f, err
		},
	})
	if err == nil {
		return bdb, nil
	}
	switch {
	case errors.Is(err, bolterrors.ErrTimeout):
		return nil, fmt.Errorf("metadata store %s: still locked by another process after %v: %w", db.path, timeout, errdefs.ErrUnavailable)
	case errors.Is(err, bolterrors.ErrInvalid), errors.Is(err, bolterrors.ErrChecksum),
		errors.Is(err, bolterrors.ErrVersionMismatch), errors.Is(err, bolterrors.ErrInvalidMapping):
		return nil, fmt.Errorf("metadata store %s: corrupt or not a bbolt database (%v): %w", db.path, err, errdefs.ErrFailedPrecondition)
	case errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("metadata store %s: %w", db.path, errdefs.ErrNotFound)
	}
	var pathErr *fs.PathError
	if errors.As(err, &pathErr) || errors.As(err, new(syscall.Errno)) {
		return nil, fmt.Errorf("metadata store %s: %w", db.path, err)
	}
	// bbolt's other errors are its checks of the file ("file size too small").
	return nil, fmt.Errorf("metadata store %s: corrupt or not a bbolt database (%v): %w", db.path, err, errdefs.ErrFailedPrecondition)
}
