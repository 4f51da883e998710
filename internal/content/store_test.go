package content

import (
	"errors"
	"strings"
	"testing"

	"github.com/berth-project/berth/internal/errdefs"
	digest "github.com/opencontainers/go-digest"
)

func TestRoundTrip(t *testing.T) {
	s := newStore(t)
	blob := []byte("hello, berth")
	d := put(t, s, blob)

	info, err := s.Info(d)
	if err != nil || info.Size != int64(len(blob)) || info.Digest != d {
		t.Fatalf("Info = %+v, %v", info, err)
	}
	equal(t, readAll(t, s, d), blob)

	ra, err := s.ReaderAt(d)
	if err != nil {
		t.Fatal(err)
	}
	if ra.Size() != int64(len(blob)) {
		t.Errorf("Size = %d", ra.Size())
	}
	part := make([]byte, 5)
	if _, err := ra.ReadAt(part, 7); err != nil || string(part) != "berth" {
		t.Errorf("ReadAt = %q, %v", part, err)
	}
	ra.Close()

	var walked []digest.Digest
	if err := s.Walk(func(i Info) error { walked = append(walked, i.Digest); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(walked) != 1 || walked[0] != d {
		t.Errorf("Walk = %v", walked)
	}
	assertClean(t, s, d)

	if err := s.Delete(d); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Info(d); !errdefs.IsNotFound(err) {
		t.Errorf("Info after Delete: %v, want NotFound", err)
	}
	if _, err := s.Open(d); !errdefs.IsNotFound(err) {
		t.Errorf("Open after Delete: %v, want NotFound", err)
	}
	if err := s.Delete(d); !errdefs.IsNotFound(err) {
		t.Errorf("Delete twice: %v, want NotFound", err)
	}
}

func TestBadDigest(t *testing.T) {
	s := newStore(t)
	for _, d := range []digest.Digest{"nonsense", "sha256:abc", digest.Digest("sha512:" + strings.Repeat("a", 128))} {
		if _, err := s.Info(d); !errdefs.IsInvalidArgument(err) {
			t.Errorf("Info(%q): %v, want InvalidArgument", d, err)
		}
		if _, err := s.Writer("r", d, 0); !errdefs.IsInvalidArgument(err) {
			t.Errorf("Writer(%q): %v, want InvalidArgument", d, err)
		}
	}
}

func TestAlreadyExists(t *testing.T) {
	s := newStore(t)
	d := put(t, s, []byte("once"))

	// Known digest: Writer says so at once.
	if _, err := s.Writer("again", d, 4); !errdefs.IsAlreadyExists(err) {
		t.Fatalf("Writer on a committed blob: %v, want AlreadyExists", err)
	}
	// Unknown digest: Commit finds out and discards the ingest.
	w, err := s.Writer("blind", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("once"))
	err = w.Commit()
	if !errdefs.IsAlreadyExists(err) {
		t.Fatalf("Commit of a committed blob: %v, want AlreadyExists", err)
	}
	assertClean(t, s, d)
}

func TestWriteAfterEnd(t *testing.T) {
	s := newStore(t)
	w, err := s.Writer("r", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(); err != nil { // the empty blob
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("x")); !errors.Is(err, errdefs.ErrFailedPrecondition) {
		t.Errorf("Write after Commit: %v", err)
	}
	if err := w.Commit(); !errors.Is(err, errdefs.ErrFailedPrecondition) {
		t.Errorf("Commit twice: %v", err)
	}
	assertClean(t, s, digest.FromBytes(nil))
}
