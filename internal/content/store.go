package content

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/berth-project/berth/internal/errdefs"
	digest "github.com/opencontainers/go-digest"
)

// Store is a content-addressed blob store rooted at a directory. It is safe
// for use by several goroutines and several processes at once.
type Store struct {
	root string
}

// Info describes a committed blob.
type Info struct {
	Digest    digest.Digest
	Size      int64
	CreatedAt time.Time
}

// ReaderAt reads a committed blob at any offset. Close it when done.
type ReaderAt interface {
	io.ReaderAt
	io.Closer
	Size() int64
}

// Open returns the store rooted at root, creating its layout if needed.
func Open(root string) (*Store, error) {
	if root == "" {
		return nil, fmt.Errorf("content store: empty root: %w", errdefs.ErrInvalidArgument)
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("content store %s: %w", root, err)
	}
	s := &Store{root: abs}
	for _, dir := range []string{s.blobDir(), s.ingestRoot(), s.rootsDir()} {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("content store %s: %w", abs, err)
		}
	}
	return s, nil
}

// Root returns the directory the store lives in.
func (s *Store) Root() string { return s.root }

func (s *Store) blobDir() string    { return filepath.Join(s.root, "blobs", string(digest.SHA256)) }
func (s *Store) ingestRoot() string { return filepath.Join(s.root, "ingest") }
func (s *Store) rootsDir() string   { return filepath.Join(s.root, "roots") }

// BlobPath returns where the blob d lives (or would live) on disk.
func (s *Store) BlobPath(d digest.Digest) (string, error) {
	if err := validDigest(d); err != nil {
		return "", err
	}
	return filepath.Join(s.blobDir(), d.Encoded()), nil
}

// validDigest accepts well-formed sha256 digests only.
func validDigest(d digest.Digest) error {
	if err := d.Validate(); err != nil {
		return fmt.Errorf("digest %q: %v: %w", d, err, errdefs.ErrInvalidArgument)
	}
	if d.Algorithm() != digest.SHA256 {
		return fmt.Errorf("digest %s: algorithm %s not supported: %w", d, d.Algorithm(), errdefs.ErrInvalidArgument)
	}
	return nil
}

// Info returns the size and time of the committed blob d (ErrNotFound if absent).
func (s *Store) Info(d digest.Digest) (Info, error) {
	p, err := s.BlobPath(d)
	if err != nil {
		return Info{}, err
	}
	fi, err := os.Stat(p)
	if err != nil {
		return Info{}, blobErr(d, err)
	}
	return Info{Digest: d, Size: fi.Size(), CreatedAt: fi.ModTime()}, nil
}

// Open opens the committed blob d for streaming reads.
func (s *Store) Open(d digest.Digest) (io.ReadSeekCloser, error) {
	p, err := s.BlobPath(d)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, blobErr(d, err)
	}
	return f, nil
}

// ReaderAt opens the committed blob d for random-access reads.
func (s *Store) ReaderAt(d digest.Digest) (ReaderAt, error) {
	p, err := s.BlobPath(d)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, blobErr(d, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, blobErr(d, err)
	}
	return &fileReaderAt{File: f, size: fi.Size()}, nil
}

type fileReaderAt struct {
	*os.File
	size int64
}

func (r *fileReaderAt) Size() int64 { return r.size }

// Walk calls fn for every committed blob, in name order. An error from fn
// stops the walk and is returned.
func (s *Store) Walk(fn func(Info) error) error {
	entries, err := os.ReadDir(s.blobDir())
	if err != nil {
		return fmt.Errorf("walk %s: %w", s.blobDir(), err)
	}
	for _, e := range entries {
		d := digest.NewDigestFromEncoded(digest.SHA256, e.Name())
		if d.Validate() != nil || !e.Type().IsRegular() {
			continue // not ours
		}
		fi, err := e.Info()
		if errors.Is(err, os.ErrNotExist) {
			continue // deleted while walking
		}
		if err != nil {
			return fmt.Errorf("walk %s: %w", d, err)
		}
		if err := fn(Info{Digest: d, Size: fi.Size(), CreatedAt: fi.ModTime()}); err != nil {
			return err
		}
	}
	return nil
}

// Delete removes the committed blob d. A blob named by a GC root is not
// deleted (ErrFailedPrecondition); remove the root first.
func (s *Store) Delete(d digest.Digest) error {
	p, err := s.BlobPath(d)
	if err != nil {
		return err
	}
	l, err := s.lockRoots()
	if err != nil {
		return err
	}
	defer l.unlock()
	roots, err := s.readRoots()
	if err != nil {
		return err
	}
	for _, r := range roots {
		for _, rd := range r.Digests {
			if rd == d {
				return fmt.Errorf("blob %s: held by root %q: %w", d, r.Name, errdefs.ErrFailedPrecondition)
			}
		}
	}
	if err := os.Remove(p); err != nil {
		return blobErr(d, err)
	}
	return nil
}

func blobErr(d digest.Digest, err error) error {
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("blob %s: %w", d, errdefs.ErrNotFound)
	}
	return fmt.Errorf("blob %s: %w", d, err)
}
