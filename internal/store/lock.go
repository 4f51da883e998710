package store

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

	"github.com/berth-project/berth/internal/errdefs"
)

// The transaction lock: a flock on <db>.lock, shared for View and exclusive
// for Update, taken before bbolt opens the database.
//
// bbolt locks the database file itself, but it waits for that lock by trying
// every 50 ms, so twenty commands that each want a few milliseconds of the
// file spend most of their time asleep. A blocking flock is handed over by
// the kernel the moment its holder lets go. Once the transaction lock is
// held, bbolt's own flock is free at once (every berth takes the same
// transaction lock first); it still guards against tools that open the
// database directly. flock belongs to an open file description, so it
// excludes goroutines of one process from each other like other processes,
// and dies with its holder.

// lockPath is the transaction lock's file beside the database.
func lockPath(db string) string { return db + ".lock" }

// txLock is a held transaction lock.
type txLock struct{ f *os.File }

// lockTx takes the transaction lock of the database at path, waiting at most
// timeout; ErrUnavailable after that.
func lockTx(path string, exclusive bool, timeout time.Duration) (*txLock, error) {
	f, err := os.OpenFile(lockPath(path), os.O_RDONLY|os.O_CREATE|syscall.O_CLOEXEC, 0o600) // flock needs no write access
	if err != nil {
		return nil, fmt.Errorf("metadata store %s: lock: %w", path, err)
	}
	how := syscall.LOCK_SH
	if exclusive {
		how = syscall.LOCK_EX
	}
	// Free (the common case): no goroutine, no timer.
	err = flock(f, how|syscall.LOCK_NB)
	if err == nil {
		return &txLock{f: f}, nil
	}
	if !errors.Is(err, syscall.EWOULDBLOCK) {
		f.Close()
		return nil, fmt.Errorf("metadata store %s: lock: %w", path, err)
	}
	// Held: wait in the kernel, on a thread of its own, so that the wait can
	// be given up.
	done := make(chan error, 1)
	go func() { done <- flock(f, how) }()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case err := <-done:
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("metadata store %s: lock: %w", path, err)
		}
		return &txLock{f: f}, nil
	case <-timer.C:
		go func() { <-done; f.Close() }() // let go of the lock when the wait ends after all
		return nil, fmt.Errorf("metadata store %s: still locked by another process after %v: %w", path, timeout, errdefs.ErrUnavailable)
	}
}

// unlock lets go of the lock.
func (l *txLock) unlock() { l.f.Close() }

// flock is flock(2) on f, retried on EINTR.
func flock(f *os.File, how int) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) {
		for {
			ferr = syscall.Flock(int(fd), how)
			if ferr != syscall.EINTR {
				return
			}
		}
	}); err != nil {
		return err
	}
	return ferr
}
