package content

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/berth-project/berth/internal/errdefs"
	digest "github.com/opencontainers/go-digest"
)

// Root is a named set of digests kept alive by GC, one file under
// <root>/roots/. A blob lives as long as some root names it or it is reachable
// from a blob that a root names; each root is one reference to it.
type Root struct {
	Name    string          `json:"name"`
	Digests []digest.Digest `json:"digests"`
}

// rootsLock serialises root changes, Delete and GC across processes.
func (s *Store) lockRoots() (*fileLock, error) {
	return lockFile(filepath.Join(s.root, "roots.lock"), false)
}

func (s *Store) rootPath(name string) string {
	return filepath.Join(s.rootsDir(), digest.FromString(name).Encoded()+".json")
}

// AddRoot adds the digests to the root name, creating it if needed.
func (s *Store) AddRoot(name string, ds ...digest.Digest) error {
	if name == "" {
		return fmt.Errorf("root: empty name: %w", errdefs.ErrInvalidArgument)
	}
	for _, d := range ds {
		if err := validDigest(d); err != nil {
			return fmt.Errorf("root %q: %w", name, err)
		}
	}
	l, err := s.lockRoots()
	if err != nil {
		return err
	}
	defer l.unlock()
	r, err := readRoot(s.rootPath(name))
	if errors.Is(err, os.ErrNotExist) {
		r, err = Root{Name: name}, nil
	}
	if err != nil {
		return fmt.Errorf("root %q: %w", name, err)
	}
	for _, d := range ds {
		if !slices.Contains(r.Digests, d) {
			r.Digests = append(r.Digests, d)
		}
	}
	return s.writeRoot(r)
}

// RemoveRoot removes the root name (ErrNotFound if absent). Its blobs go at
// the next GC unless another root holds them.
func (s *Store) RemoveRoot(name string) error {
	l, err := s.lockRoots()
	if err != nil {
		return err
	}
	defer l.unlock()
	if err := os.Remove(s.rootPath(name)); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("root %q: %w", name, errdefs.ErrNotFound)
		}
		return fmt.Errorf("root %q: %w", name, err)
	}
	return nil
}

// Roots returns every root, sorted by name.
func (s *Store) Roots() ([]Root, error) {
	l, err := s.lockRoots()
	if err != nil {
		return nil, err
	}
	defer l.unlock()
	return s.readRoots()
}

func (s *Store) readRoots() ([]Root, error) {
	entries, err := os.ReadDir(s.rootsDir())
	if err != nil {
		return nil, fmt.Errorf("roots %s: %w", s.rootsDir(), err)
	}
	var roots []Root
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".json") {
			continue // a temp file of writeRoot
		}
		r, err := readRoot(filepath.Join(s.rootsDir(), e.Name()))
		if err != nil {
			return nil, err
		}
		roots = append(roots, r)
	}
	slices.SortFunc(roots, func(a, b Root) int { return strings.Compare(a.Name, b.Name) })
	return roots, nil
}

func readRoot(path string) (Root, error) {
	var r Root
	b, err := os.ReadFile(path)
	if err != nil {
		return r, err
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return r, fmt.Errorf("root file %s: %w", path, err)
	}
	return r, nil
}

// writeRoot replaces the root's file atomically (temp + rename).
func (s *Store) writeRoot(r Root) error {
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("root %q: %w", r.Name, err)
	}
	path := s.rootPath(r.Name)
	tmp, err := os.CreateTemp(s.rootsDir(), ".tmp-")
	if err != nil {
		return fmt.Errorf("root %q: %w", r.Name, err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(b)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("root %q: %w", r.Name, err)
	}
	return nil
}
