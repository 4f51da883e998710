package containerlog

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"syscall"
	"time"
)

// The files of a log are a chain, newest first: path, path.1, path.2, …
// The monitor rotates by renaming, oldest first (path.N-2 → path.N-1, …,
// path → path.1) and then creating path; a file only ever moves to a
// higher number, and it is closed by the writer before it moves. A reader
// holds its files open, so it tells them apart by identity (device and
// inode), not by name: an open file keeps its inode from being reused.

// fileID is a file's identity.
type fileID struct{ dev, ino uint64 }

func idOf(fi fs.FileInfo) fileID {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fileID{}
	}
	return fileID{dev: uint64(st.Dev), ino: st.Ino}
}

// link is one file of the chain: its number (0 for path itself) and
// identity.
type link struct {
	n  int
	id fileID
}

func fileName(path string, n int) string {
	if n == 0 {
		return path
	}
	return path + "." + strconv.Itoa(n)
}

// scan stats path, path.1, … until two numbers in a row are missing, and
// reports whether the chain looked settled: no number missing before one
// that exists and no file seen twice (a rotation under way shows as one or
// the other).
func scan(path string) (chain []link, settled bool, err error) {
	settled = true
	missing := 0
	for n := 0; missing < 2; n++ {
		fi, err := os.Stat(fileName(path, n))
		if errors.Is(err, fs.ErrNotExist) {
			missing++
			continue
		}
		if err != nil {
			return nil, false, fmt.Errorf("container log: %w", err)
		}
		if missing > 0 {
			settled = false
			missing = 0
		}
		id := idOf(fi)
		if slices.ContainsFunc(chain, func(l link) bool { return l.id == id }) {
			settled = false
			continue
		}
		chain = append(chain, link{n, id})
	}
	return chain, settled, nil
}

// settledScan scans until two settled scans in a row agree. A writer that
// died in the middle of a rotation never lets the chain settle: after
// about 200 ms the last scan is taken as it is.
func settledScan(ctx context.Context, path string) ([]link, error) {
	var last []link
	for try := 0; try < 250; try++ {
		a, ok, err := scan(path)
		if err != nil {
			return nil, err
		}
		last = a
		if ok {
			b, ok, err := scan(path)
			if err != nil {
				return nil, err
			}
			if ok && slices.Equal(a, b) {
				return a, nil
			}
		}
		if try >= 50 {
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(time.Millisecond):
			}
		}
	}
	return last, nil
}

// logFile is one open file of the chain.
type logFile struct {
	f  *os.File
	id fileID
}

// openLink opens l's file and checks that it is still the same file; ok
// is false if it moved or went away in between.
func openLink(path string, l link) (*logFile, bool, error) {
	f, err := os.Open(fileName(path, l.n))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("container log: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, false, fmt.Errorf("container log: %w", err)
	}
	if idOf(fi) != l.id {
		f.Close()
		return nil, false, nil
	}
	return &logFile{f: f, id: l.id}, true, nil
}

// openChain opens every file of the chain, oldest first. The files are
// those of one settled scan, each checked to be the file scanned: rotations
// after the scan move them but change neither their set nor their order.
// No file is no error: a container that wrote nothing has an empty log.
func openChain(ctx context.Context, path string) ([]*logFile, error) {
	for {
		chain, err := settledScan(ctx, path)
		if err != nil {
			return nil, err
		}
		files, ok, err := openLinks(path, chain)
		if err != nil || ok {
			return files, err
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
}

func openLinks(path string, chain []link) ([]*logFile, bool, error) {
	files := make([]*logFile, 0, len(chain))
	for i := len(chain) - 1; i >= 0; i-- {
		lf, ok, err := openLink(path, chain[i])
		if err != nil || !ok {
			closeAll(files)
			return nil, false, err
		}
		files = append(files, lf)
	}
	return files, true, nil
}

func closeAll(files []*logFile) {
	for _, lf := range files {
		if lf != nil {
			lf.f.Close()
		}
	}
}

// successor opens the file written after cur, which is no longer path: the
// one numbered one less, or, if cur has gone (rotated away while it was
// read), the oldest that is left. It returns nil while there is none (path
// not created again yet, or gone).
func successor(ctx context.Context, path string, cur fileID) (*logFile, error) {
	for try := 0; try < 10; try++ {
		chain, err := settledScan(ctx, path)
		if err != nil {
			return nil, err
		}
		i := slices.IndexFunc(chain, func(l link) bool { return l.id == cur })
		var next link
		switch {
		case i > 0:
			next = chain[i-1]
		case i < 0 && len(chain) > 0:
			next = chain[len(chain)-1]
		default:
			return nil, nil
		}
		lf, ok, err := openLink(path, next)
		if err != nil || ok {
			return lf, err
		}
	}
	return nil, nil
}
