package storage

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
)

const tempPrefix = "tmp-"

// tempDir is a snapshots/tmp-* directory locked by this process: garbage
// collection leaves it alone for as long as the lock is held.
type tempDir struct {
	path string
	f    *os.File // the directory itself, flock'ed
}

// newTempDir makes and locks a fresh tmp-* directory under dir. Garbage
// collection may lock and delete a directory between its creation and our
// lock; we notice by the path no longer naming the directory we locked and
// make another.
func newTempDir(dir string) (*tempDir, error) {
	for {
		path, err := os.MkdirTemp(dir, tempPrefix)
		if err != nil {
			return nil, fmt.Errorf("make a temporary snapshot directory in %s: %w", dir, err)
		}
		td, err := lockDir(path, false)
		if err != nil {
			return nil, err
		}
		if td != nil {
			return td, nil
		}
	}
}

// lockDir locks the directory at path. It returns nil (and no error) when
// the path no longer names the directory it locked, or, with try, when
// another holder has it.
func lockDir(path string, try bool) (*tempDir, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_DIRECTORY|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	how := syscall.LOCK_EX
	if try {
		how |= syscall.LOCK_NB
	}
	if err := flock(f, how); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, nil
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	held, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("stat %s: %w", path, err)
	}
	now, err := os.Lstat(path)
	if err != nil || !os.SameFile(held, now) {
		f.Close()
		return nil, nil
	}
	return &tempDir{path: path, f: f}, nil
}

// removeAll deletes the directory and its content, then lets go of it.
func (t *tempDir) removeAll() error {
	err := os.RemoveAll(t.path)
	t.release()
	if err != nil {
		return fmt.Errorf("remove %s: %w", t.path, err)
	}
	return nil
}

// release lets go of the lock (after the directory was renamed into place).
func (t *tempDir) release() {
	if t.f != nil {
		t.f.Close()
		t.f = nil
	}
}

func isTempName(name string) bool { return strings.HasPrefix(name, tempPrefix) }
