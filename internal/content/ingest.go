package content

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/berth-project/berth/internal/errdefs"
	digest "github.com/opencontainers/go-digest"
)

// An ingest is a partial write under <root>/ingest/<key>/, where key is the
// hex sha256 of the ref (refs may hold any character):
//
//	ref       the ref, for humans and for listing
//	expected  "<digest> <size>" as given when the ingest began ("" and 0 when unknown)
//	data      the bytes written so far
//
// <root>/ingest/<key>.lock is held by the one writer of the ref.

func (s *Store) ingestDir(ref string) string {
	return filepath.Join(s.ingestRoot(), digest.FromString(ref).Encoded())
}

// Writer begins, or resumes, the ingest named ref and returns its writer.
// If another goroutine or process holds the ref, Writer waits for it. Give
// the digest and size when known (zero values otherwise); Commit checks them.
//
// When the ingest exists from an earlier, interrupted writer, the new writer
// continues at its end: see Offset. When the expected blob is already
// committed, Writer discards any ingest of ref and returns ErrAlreadyExists.
func (s *Store) Writer(ref string, expected digest.Digest, size int64) (*Writer, error) {
	return s.writer(ref, expected, size, false)
}

// TryWriter is Writer, but returns ErrUnavailable at once when the ref is held.
func (s *Store) TryWriter(ref string, expected digest.Digest, size int64) (*Writer, error) {
	return s.writer(ref, expected, size, true)
}

func (s *Store) writer(ref string, expected digest.Digest, size int64, try bool) (w *Writer, err error) {
	if ref == "" {
		return nil, fmt.Errorf("ingest: empty ref: %w", errdefs.ErrInvalidArgument)
	}
	if expected != "" {
		if err := validDigest(expected); err != nil {
			return nil, fmt.Errorf("ingest %q: %w", ref, err)
		}
	}
	if size < 0 {
		return nil, fmt.Errorf("ingest %q: negative size %d: %w", ref, size, errdefs.ErrInvalidArgument)
	}
	dir := s.ingestDir(ref)
	lock, err := lockFile(dir+".lock", try)
	if err != nil {
		return nil, fmt.Errorf("ingest %q: %w", ref, err)
	}
	defer func() {
		if err != nil {
			lock.unlock()
		}
	}()

	if expected != "" {
		if _, err := s.Info(expected); err == nil {
			if err := os.RemoveAll(dir); err != nil {
				return nil, fmt.Errorf("ingest %q: discard: %w", ref, err)
			}
			return nil, fmt.Errorf("blob %s: %w", expected, errdefs.ErrAlreadyExists)
		}
	}

	w = &Writer{s: s, ref: ref, dir: dir, lock: lock, expected: expected, size: size, h: sha256.New()}
	prev, psize, err := readExpected(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		err = w.begin()
	case err != nil:
		return nil, fmt.Errorf("ingest %q: %w", ref, err)
	default:
		err = w.resume(prev, psize)
	}
	if err != nil {
		return nil, err
	}
	return w, nil
}

// begin lays out a fresh ingest.
func (w *Writer) begin() error {
	if err := os.RemoveAll(w.dir); err != nil { // a half-made ingest from a crash
		return fmt.Errorf("ingest %q: %w", w.ref, err)
	}
	if err := os.Mkdir(w.dir, 0o700); err != nil {
		return fmt.Errorf("ingest %q: %w", w.ref, err)
	}
	if err := os.WriteFile(filepath.Join(w.dir, "ref"), []byte(w.ref), 0o600); err != nil {
		return fmt.Errorf("ingest %q: %w", w.ref, err)
	}
	f, err := os.OpenFile(filepath.Join(w.dir, "data"), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("ingest %q: %w", w.ref, err)
	}
	w.f = f
	// expected is written last: its presence marks a complete layout.
	line := fmt.Sprintf("%s %d", w.expected, w.size)
	if err := os.WriteFile(filepath.Join(w.dir, "expected"), []byte(line), 0o600); err != nil {
		f.Close()
		return fmt.Errorf("ingest %q: %w", w.ref, err)
	}
	return nil
}

// resume reopens an interrupted ingest and rehashes what it holds.
func (w *Writer) resume(prev digest.Digest, psize int64) error {
	if w.expected != "" && prev != "" && w.expected != prev {
		return fmt.Errorf("ingest %q: begun for %s, not %s: %w", w.ref, prev, w.expected, errdefs.ErrFailedPrecondition)
	}
	if w.size != 0 && psize != 0 && w.size != psize {
		return fmt.Errorf("ingest %q: begun for size %d, not %d: %w", w.ref, psize, w.size, errdefs.ErrFailedPrecondition)
	}
	if w.expected == "" {
		w.expected = prev
	}
	if w.size == 0 {
		w.size = psize
	}
	f, err := os.OpenFile(filepath.Join(w.dir, "data"), os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("ingest %q: %w", w.ref, err)
	}
	n, err := io.Copy(w.h, f)
	if err != nil {
		f.Close()
		return fmt.Errorf("ingest %q: rehash: %w", w.ref, err)
	}
	w.f, w.offset = f, n
	return nil
}

func readExpected(dir string) (digest.Digest, int64, error) {
	b, err := os.ReadFile(filepath.Join(dir, "expected"))
	if err != nil {
		return "", 0, err
	}
	ds, ss, ok := strings.Cut(string(b), " ")
	size, err := strconv.ParseInt(ss, 10, 64)
	if !ok || err != nil {
		return "", 0, fmt.Errorf("%s/expected: malformed %q", dir, b)
	}
	return digest.Digest(ds), size, nil
}

// Abort discards the ingest named ref, waiting for its writer if one holds it.
// An absent ingest is ErrNotFound.
func (s *Store) Abort(ref string) error {
	dir := s.ingestDir(ref)
	lock, err := lockFile(dir+".lock", false)
	if err != nil {
		return fmt.Errorf("ingest %q: %w", ref, err)
	}
	defer lock.unlock()
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("ingest %q: %w", ref, errdefs.ErrNotFound)
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("ingest %q: %w", ref, err)
	}
	return nil
}
