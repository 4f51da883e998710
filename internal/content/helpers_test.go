package content

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"

	digest "github.com/opencontainers/go-digest"
)

func newStore(t *testing.T) *Store {
	t.Helper()
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// put commits b and returns its digest.
func put(t *testing.T, s *Store, b []byte) digest.Digest {
	t.Helper()
	d := digest.FromBytes(b)
	w, err := s.Writer("put-"+d.String(), d, int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	return d
}

func readAll(t *testing.T, s *Store, d digest.Digest) []byte {
	t.Helper()
	r, err := s.Open(d)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// names lists the entries of a store subdirectory.
func names(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	return out
}

// assertClean fails unless the store holds the given blobs and no ingest.
func assertClean(t *testing.T, s *Store, blobs ...digest.Digest) {
	t.Helper()
	if got := names(t, s.ingestRoot()); len(got) != 0 {
		t.Errorf("ingest/ holds %v, want nothing", got)
	}
	got := names(t, s.blobDir())
	if len(got) != len(blobs) {
		t.Fatalf("blobs/ holds %v, want %v", got, blobs)
	}
	for _, d := range blobs {
		if _, err := os.Stat(filepath.Join(s.blobDir(), d.Encoded())); err != nil {
			t.Errorf("blob %s: %v", d, err)
		}
	}
}

func equal(t *testing.T, got, want []byte) {
	t.Helper()
	if !bytes.Equal(got, want) {
		t.Fatalf("content differs: got %d bytes, want %d", len(got), len(want))
	}
}
