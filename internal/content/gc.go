package content

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	digest "github.com/opencontainers/go-digest"
)

// GCResult says what a GC removed.
type GCResult struct {
	Blobs   []digest.Digest // unreachable blobs removed
	Ingests []string        // refs of stale ingests removed
}

// GC removes every blob that no root reaches and every stale ingest.
//
// Reachability starts at the digests the roots name and follows
// children(d), which returns the blobs d refers to (a manifest's config and
// layers, an index's manifests); the store itself knows no formats. children
// may read the store, and may return nil for blobs it does not understand.
//
// maxAge is a grace period: unreachable blobs committed within it are kept,
// so that a pull which has committed its blobs but not yet added its root is
// not robbed; ingests untouched for longer than maxAge, and not held by a
// writer, are removed.
func (s *Store) GC(children func(digest.Digest) []digest.Digest, maxAge time.Duration) (GCResult, error) {
	var res GCResult
	l, err := s.lockRoots()
	if err != nil {
		return res, err
	}
	defer l.unlock()
	roots, err := s.readRoots()
	if err != nil {
		return res, err
	}

	live := map[digest.Digest]bool{}
	var queue []digest.Digest
	for _, r := range roots {
		queue = append(queue, r.Digests...)
	}
	for len(queue) > 0 {
		d := queue[0]
		queue = queue[1:]
		if live[d] {
			continue
		}
		live[d] = true
		if _, err := s.Info(d); err != nil {
			continue // rooted but absent (not yet pulled): nothing to follow
		}
		if children != nil {
			queue = append(queue, children(d)...)
		}
	}

	cutoff := time.Now().Add(-maxAge)
	var dead []digest.Digest
	err = s.Walk(func(info Info) error {
		if !live[info.Digest] && !info.CreatedAt.After(cutoff) {
			dead = append(dead, info.Digest)
		}
		return nil
	})
	if err != nil {
		return res, err
	}
	var errs []error
	for _, d := range dead {
		p, _ := s.BlobPath(d)
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("gc: blob %s: %w", d, err))
			continue
		}
		res.Blobs = append(res.Blobs, d)
	}

	refs, err := s.gcIngests(cutoff)
	res.Ingests = refs
	return res, errors.Join(append(errs, err)...)
}

// gcIngests removes ingests older than cutoff that no writer holds, and lock
// files left by crashed writers.
func (s *Store) gcIngests(cutoff time.Time) ([]string, error) {
	entries, err := os.ReadDir(s.ingestRoot())
	if err != nil {
		return nil, fmt.Errorf("gc: ingests %s: %w", s.ingestRoot(), err)
	}
	var removed []string
	var errs []error
	for _, e := range entries {
		key, isLock := strings.CutSuffix(e.Name(), ".lock")
		dir := filepath.Join(s.ingestRoot(), key)
		if isLock {
			if _, err := os.Stat(dir); err == nil {
				continue // handled with its ingest
			}
		}
		lock, err := lockFile(dir+".lock", true)
		if err != nil {
			continue // a writer holds it: not stale
		}
		ref, stale := ingestStale(dir, cutoff)
		if stale {
			if err := os.RemoveAll(dir); err != nil {
				errs = append(errs, fmt.Errorf("gc: ingest %q: %w", ref, err))
			} else if !isLock {
				removed = append(removed, ref)
			}
		}
		if err := lock.unlock(); err != nil {
			errs = append(errs, err)
		}
	}
	return removed, errors.Join(errs...)
}

// ingestStale reports whether the ingest at dir was last written before cutoff
// (an ingest with no data file is a crashed begin, and stale).
func ingestStale(dir string, cutoff time.Time) (ref string, stale bool) {
	b, _ := os.ReadFile(filepath.Join(dir, "ref"))
	ref = string(b)
	fi, err := os.Stat(filepath.Join(dir, "data"))
	if err != nil {
		return ref, true
	}
	return ref, !fi.ModTime().After(cutoff)
}
