package unpack

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/opencontainers/go-digest"
	"golang.org/x/sys/unix"
)

// fileLock is an flock held on a file that exists for as long as it is
// held: release unlinks the file before unlocking, and whoever locks a file
// checks afterwards that it is still the one at the path (else it was
// released meanwhile, and the locker tries again). So lock files never
// pile up, and a process killed while holding one drops the lock with its
// descriptors.
type fileLock struct {
	f    *os.File
	path string
}

// lockPoll bounds the wait between two attempts at a held lock.
const lockPoll = 100 * time.Millisecond

// lock takes the lock at path, waiting while another process or goroutine
// holds it, until ctx ends.
func lock(ctx context.Context, path string) (*fileLock, error) {
	wait := 2 * time.Millisecond
	for {
		l, held, err := tryLock(path, true)
		if err != nil || !held {
			return l, err
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("wait for lock %s: %w", path, ctx.Err())
		case <-time.After(wait):
		}
		wait = min(2*wait, lockPoll)
	}
}

// tryLock takes the lock at path if nobody holds it. held reports that
// somebody does. Without create, a missing file means nobody holds it, and
// the result is (nil, false, nil).
func tryLock(path string, create bool) (l *fileLock, held bool, err error) {
	flags := os.O_RDWR
	if create {
		flags |= os.O_CREATE
	}
	for {
		f, err := os.OpenFile(path, flags|unix.O_CLOEXEC, 0o600)
		if !create && errors.Is(err, os.ErrNotExist) {
			return nil, false, nil
		}
		if err != nil {
			return nil, false, fmt.Errorf("lock: %w", err)
		}
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if errors.Is(err, unix.EWOULDBLOCK) {
			f.Close()
			return nil, true, nil
		}
		if err != nil {
			f.Close()
			return nil, false, fmt.Errorf("lock %s: %w", path, err)
		}
		same, err := linked(f, path)
		if err != nil {
			f.Close()
			return nil, false, err
		}
		if same {
			return &fileLock{f: f, path: path}, false, nil
		}
		f.Close() // released and unlinked meanwhile
		if !create {
			return nil, false, nil
		}
	}
}

// linked reports whether path still names the file f.
func linked(f *os.File, path string) (bool, error) {
	var fst, pst unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &fst); err != nil {
		return false, fmt.Errorf("lock %s: %w", path, err)
	}
	err := unix.Stat(path, &pst)
	if errors.Is(err, unix.ENOENT) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("lock %s: %w", path, err)
	}
	return fst.Dev == pst.Dev && fst.Ino == pst.Ino, nil
}

// release unlinks the lock file, then unlocks it.
func (l *fileLock) release() error {
	err := os.Remove(l.path)
	if errors.Is(err, os.ErrNotExist) {
		err = nil
	}
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("release lock %s: %w", l.path, err)
	}
	return nil
}

// chainLockPath is the lock held while a layer is applied towards the
// snapshot chainID: one applier per chain, across processes.
func chainLockPath(dir string, chainID digest.Digest) string {
	return filepath.Join(dir, chainID.Algorithm().String()+"-"+chainID.Encoded()+".lock")
}
