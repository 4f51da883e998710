package content

import (
	"errors"
	"fmt"
	"hash"
	"os"

	"github.com/berth-project/berth/internal/errdefs"
	digest "github.com/opencontainers/go-digest"
)

// Writer streams one blob into an ingest, hashing as it goes. It holds the
// ingest's lock until Commit, Close or Discard; exactly one of them must be
// called. A Writer is not for use by several goroutines at once.
type Writer struct {
	s        *Store
	ref      string
	dir      string
	lock     *fileLock
	f        *os.File
	h        hash.Hash
	expected digest.Digest
	size     int64
	offset   int64
	done     bool
}

// Ref returns the ingest's name.
func (w *Writer) Ref() string { return w.ref }

// Offset returns how many bytes the ingest holds: where a resumed download
// must continue.
func (w *Writer) Offset() int64 { return w.offset }

// Digest returns the digest of the bytes written so far.
func (w *Writer) Digest() digest.Digest { return digest.NewDigest(digest.SHA256, w.h) }

// Write appends p to the ingest. Writing past the expected size discards the
// ingest and returns ErrInvalidArgument: the source is not the blob asked for.
func (w *Writer) Write(p []byte) (int, error) {
	if w.done {
		return 0, fmt.Errorf("ingest %q: write after close: %w", w.ref, errdefs.ErrFailedPrecondition)
	}
	if w.size > 0 && w.offset+int64(len(p)) > w.size {
		err := fmt.Errorf("ingest %q: %d bytes exceed the expected size %d of %s: %w",
			w.ref, w.offset+int64(len(p)), w.size, w.expected, errdefs.ErrInvalidArgument)
		return 0, errors.Join(err, w.Discard())
	}
	n, err := w.f.Write(p)
	w.h.Write(p[:n])
	w.offset += int64(n)
	if err != nil {
		return n, fmt.Errorf("ingest %q: %w", w.ref, err)
	}
	return n, nil
}

// Commit checks the size and digest of what was written, makes it durable and
// moves it atomically to its place under blobs/. On a mismatch the ingest is
// discarded and the error (ErrInvalidArgument) names both digests. When the
// blob is already committed, the ingest is discarded and the error is
// ErrAlreadyExists. Commit ends the Writer either way.
func (w *Writer) Commit() (err error) {
	if w.done {
		return fmt.Errorf("ingest %q: commit after close: %w", w.ref, errdefs.ErrFailedPrecondition)
	}
	defer func() { err = errors.Join(err, w.Discard()) }()

	got := w.Digest()
	if w.size > 0 && w.offset != w.size {
		return fmt.Errorf("ingest %q: size %d, expected %d (for %s): %w", w.ref, w.offset, w.size, w.expected, errdefs.ErrInvalidArgument)
	}
	if w.expected != "" && got != w.expected {
		return fmt.Errorf("ingest %q: digest %s, expected %s: %w", w.ref, got, w.expected, errdefs.ErrInvalidArgument)
	}
	target, _ := w.s.BlobPath(got)
	if _, err := os.Stat(target); err == nil {
		return fmt.Errorf("blob %s: %w", got, errdefs.ErrAlreadyExists)
	}
	if err := w.f.Chmod(0o444); err != nil {
		return fmt.Errorf("ingest %q: %w", w.ref, err)
	}
	if err := w.f.Sync(); err != nil {
		return fmt.Errorf("ingest %q: sync: %w", w.ref, err)
	}
	if err := os.Rename(w.f.Name(), target); err != nil {
		return fmt.Errorf("ingest %q: commit %s: %w", w.ref, got, err)
	}
	if err := syncDir(w.s.blobDir()); err != nil {
		return fmt.Errorf("blob %s: %w", got, err)
	}
	return nil
}

// Close ends the Writer but keeps the ingest, so that a later Writer for the
// same ref resumes at Offset.
func (w *Writer) Close() error {
	if w.done {
		return nil
	}
	w.done = true
	err := w.f.Close()
	return errors.Join(err, w.lock.unlock())
}

// Discard ends the Writer and removes the ingest.
func (w *Writer) Discard() error {
	if w.done {
		return nil
	}
	w.done = true
	w.f.Close()
	err := os.RemoveAll(w.dir)
	if err != nil {
		err = fmt.Errorf("ingest %q: discard: %w", w.ref, err)
	}
	return errors.Join(err, w.lock.unlock())
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
