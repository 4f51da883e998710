package content

import (
	"errors"
	"fmt"
	"os"
	"syscall"

	"github.com/berth-project/berth/internal/errdefs"
)

// fileLock is an exclusive flock(2) on a lock file. flock belongs to the open
// file description, so it excludes other processes and other goroutines of
// this process alike, and the kernel drops it when a holder dies.
//
// The holder removes the lock file when it lets go, so lock files do not pile
// up. A waiter that wins the lock on a file that has since been unlinked (or
// replaced) notices by comparing inodes and tries again on the new file.
type fileLock struct {
	path string
	f    *os.File
}

// lockFile takes the lock at path, waiting for it unless try is set, in which
// case a held lock is ErrUnavailable.
func lockFile(path string, try bool) (*fileLock, error) {
	how := syscall.LOCK_EX
	if try {
		how |= syscall.LOCK_NB
	}
	for {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|syscall.O_CLOEXEC, 0o600)
		if err != nil {
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		if err := flock(f, how); err != nil {
			f.Close()
			if errors.Is(err, syscall.EWOULDBLOCK) {
				return nil, fmt.Errorf("lock %s: held by another writer: %w", path, errdefs.ErrUnavailable)
			}
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		same, err := sameFile(f, path)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		if same {
			return &fileLock{path: path, f: f}, nil
		}
		f.Close() // the previous holder removed it; lock the new file
	}
}

// sameFile reports whether the open file f is still the file at path.
func sameFile(f *os.File, path string) (bool, error) {
	held, err := f.Stat()
	if err != nil {
		return false, err
	}
	now, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return os.SameFile(held, now), nil
}

// unlock removes the lock file and releases the lock, in that order, so that
// the next holder always locks a file that is still in place.
func (l *fileLock) unlock() error {
	if l == nil || l.f == nil {
		return nil
	}
	rmErr := os.Remove(l.path)
	if errors.Is(rmErr, os.ErrNotExist) {
		rmErr = nil
	}
	closeErr := l.f.Close() // closing the last descriptor drops the flock
	l.f = nil
	if rmErr != nil {
		return fmt.Errorf("unlock %s: %w", l.path, rmErr)
	}
	return closeErr
}

func flock(f *os.File, how int) error {
	for {
		err := syscall.Flock(int(f.Fd()), how)
		if err != syscall.EINTR {
			return err
		}
	}
}
