package engine

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// lockGC takes <Root>/gc.lock: shared while a pull, load or import adds
// what it works with to its content root, exclusive while collect decides
// what is dead and removes it. So a collection either sees a process's root
// whole, or ends before that process looks for blobs and snapshots to reuse:
// never does it remove a snapshot a pull has just found committed.
func (e *Engine) lockGC(exclusive bool) (unlock func(), err error) {
	path := filepath.Join(e.cfg.Root, "gc.lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("gc lock: %w", err)
	}
	how := unix.LOCK_SH
	if exclusive {
		how = unix.LOCK_EX
	}
	for {
		err = unix.Flock(int(f.Fd()), how)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("gc lock %s: %w", path, err)
	}
	return func() { f.Close() }, nil
}
