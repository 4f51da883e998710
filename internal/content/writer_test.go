package content

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/berth-project/berth/internal/errdefs"
	digest "github.com/opencontainers/go-digest"
)

// Bad input leaves no blob and no ingest.
func TestMismatchLeavesNothing(t *testing.T) {
	blob := []byte("the real layer")
	d := digest.FromBytes(blob)
	for _, tc := range []struct {
		name     string
		data     []byte
		size     int64
		inCommit bool // the error surfaces at Commit, not Write
	}{
		{"digest", []byte("a fake layer!!"), int64(len(blob)), true},
		{"short", blob[:5], int64(len(blob)), true},
		{"long", append(append([]byte{}, blob...), '!'), int64(len(blob)), false},
		{"digest, size unknown", []byte("other"), 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t)
			w, err := s.Writer("pull", d, tc.size)
			if err != nil {
				t.Fatal(err)
			}
			_, werr := w.Write(tc.data)
			cerr := w.Commit()
			err = cerr
			if !tc.inCommit {
				err = werr
			} else if werr != nil {
				t.Fatalf("Write: %v", werr)
			}
			if !errdefs.IsInvalidArgument(err) {
				t.Fatalf("got %v, want InvalidArgument", err)
			}
			if tc.name == "digest" && !(strings.Contains(err.Error(), d.String()) && strings.Contains(err.Error(), digest.FromBytes(tc.data).String())) {
				t.Errorf("error %q does not name both digests", err)
			}
			assertClean(t, s)
		})
	}
}

// No name under blobs/ ever holds less than its whole, verified content.
func TestCommitAtomic(t *testing.T) {
	s := newStore(t)
	var stop atomic.Bool
	var wg sync.WaitGroup
	var seen atomic.Int64
	wg.Add(1)
	go func() {
		defer wg.Done()
		for !stop.Load() {
			es, _ := os.ReadDir(s.blobDir())
			for _, e := range es {
				b, err := os.ReadFile(filepath.Join(s.blobDir(), e.Name()))
				if err != nil {
					continue // deleted meanwhile is fine; absent is fine
				}
				sum := sha256.Sum256(b)
				if hex.EncodeToString(sum[:]) != e.Name() {
					t.Errorf("blobs/%s visible with %d bytes that do not match its name", e.Name(), len(b))
				}
				seen.Add(1)
			}
		}
	}()
	chunk := bytes.Repeat([]byte("0123456789abcdef"), 4096)
	for i := range 50 {
		blob := append([]byte{byte(i)}, bytes.Repeat(chunk, 4)...)
		d := digest.FromBytes(blob)
		w, err := s.Writer(d.String(), d, int64(len(blob)))
		if err != nil {
			t.Fatal(err)
		}
		for off := 0; off < len(blob); off += 4096 {
			w.Write(blob[off:min(off+4096, len(blob))])
		}
		if err := w.Commit(); err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			s.Delete(d)
		}
	}
	stop.Store(true)
	wg.Wait()
	if seen.Load() == 0 {
		t.Log("the watcher saw no blob (slow machine?)")
	}
	if got := names(t, s.ingestRoot()); len(got) != 0 {
		t.Errorf("ingest/ holds %v", got)
	}
}

// A pull interrupted half way resumes at its offset with a new Writer.
func TestResume(t *testing.T) {
	s := newStore(t)
	blob := bytes.Repeat([]byte("resumable "), 1000)
	d := digest.FromBytes(blob)
	half := len(blob) / 2

	w, err := s.Writer("layer", d, int64(len(blob)))
	if err != nil {
		t.Fatal(err)
	}
	w.Write(blob[:half])
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Info(d); !errdefs.IsNotFound(err) {
		t.Fatalf("half a blob is visible: %v", err)
	}

	// Resume without restating the expectations: the ingest remembers them.
	w, err = s.Writer("layer", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	if w.Offset() != int64(half) {
		t.Fatalf("Offset = %d, want %d", w.Offset(), half)
	}
	w.Write(blob[half:])
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	equal(t, readAll(t, s, d), blob)
	assertClean(t, s, d)
}

func TestResumeConflict(t *testing.T) {
	s := newStore(t)
	w, err := s.Writer("layer", digest.FromString("a"), 1)
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	if _, err := s.Writer("layer", digest.FromString("b"), 1); !errdefs.IsFailedPrecondition(err) {
		t.Fatalf("resume for another digest: %v, want FailedPrecondition", err)
	}
	if err := s.Abort("layer"); err != nil {
		t.Fatal(err)
	}
	if err := s.Abort("layer"); !errdefs.IsNotFound(err) {
		t.Fatalf("Abort twice: %v, want NotFound", err)
	}
	assertClean(t, s)
}
