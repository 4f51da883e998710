package content

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/berth-project/berth/internal/errdefs"
	digest "github.com/opencontainers/go-digest"
)

func TestGC(t *testing.T) {
	s := newStore(t)
	layer := put(t, s, []byte("layer"))
	config := put(t, s, []byte("config"))
	manifest := put(t, s, []byte("manifest"))
	shared := put(t, s, []byte("shared layer"))
	other := put(t, s, []byte("other manifest"))
	orphan := put(t, s, []byte("orphan"))
	// The test's "manifests": children known to the caller, not the store.
	children := func(d digest.Digest) []digest.Digest {
		switch d {
		case manifest:
			return []digest.Digest{config, layer, shared}
		case other:
			return []digest.Digest{shared}
		}
		return nil
	}
	if err := s.AddRoot("image/a", manifest); err != nil {
		t.Fatal(err)
	}
	if err := s.AddRoot("image/b", other, digest.FromString("not pulled yet")); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(manifest); !errdefs.IsFailedPrecondition(err) {
		t.Fatalf("Delete of a rooted blob: %v, want FailedPrecondition", err)
	}

	res, err := s.GC(children, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Blobs, []digest.Digest{orphan}) {
		t.Fatalf("GC removed %v, want only %s", res.Blobs, orphan)
	}
	assertClean(t, s, layer, config, manifest, shared, other)

	// Dropping one reference keeps what the other root still reaches.
	if err := s.RemoveRoot("image/a"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GC(children, 0); err != nil {
		t.Fatal(err)
	}
	assertClean(t, s, shared, other)

	if err := s.RemoveRoot("image/a"); !errdefs.IsNotFound(err) {
		t.Fatalf("RemoveRoot twice: %v, want NotFound", err)
	}
	if err := s.RemoveRoot("image/b"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GC(children, 0); err != nil {
		t.Fatal(err)
	}
	assertClean(t, s)
}

func TestGCGracePeriod(t *testing.T) {
	s := newStore(t)
	fresh := put(t, s, []byte("just pulled, root not yet added"))
	res, err := s.GC(nil, time.Hour)
	if err != nil || len(res.Blobs) != 0 {
		t.Fatalf("GC within the grace period removed %v, %v", res.Blobs, err)
	}
	assertClean(t, s, fresh)
}

func TestGCIngests(t *testing.T) {
	s := newStore(t)
	stale, err := s.Writer("stale", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	stale.Write([]byte("abandoned"))
	stale.Close()
	old := time.Now().Add(-2 * time.Hour)
	os.Chtimes(filepath.Join(s.ingestDir("stale"), "data"), old, old)

	recent, _ := s.Writer("recent", "", 0)
	recent.Write([]byte("paused"))
	recent.Close()

	active, _ := s.Writer("active", "", 0)
	active.Write([]byte("in progress"))
	os.Chtimes(filepath.Join(s.ingestDir("active"), "data"), old, old)

	// A lock file left by a crashed writer.
	os.WriteFile(s.ingestDir("crashed")+".lock", nil, 0o600)

	res, err := s.GC(nil, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Ingests, []string{"stale"}) {
		t.Errorf("GC removed ingests %v, want [stale]", res.Ingests)
	}
	got := names(t, s.ingestRoot())
	want := []string{filepath.Base(s.ingestDir("active")), filepath.Base(s.ingestDir("active")) + ".lock", filepath.Base(s.ingestDir("recent"))}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("ingest/ = %v, want %v", got, want)
	}
	if err := active.Commit(); err != nil {
		t.Fatal(err)
	}
}

func TestRoots(t *testing.T) {
	s := newStore(t)
	a, b := digest.FromString("a"), digest.FromString("b")
	s.AddRoot("x", a)
	s.AddRoot("x", a, b)
	s.AddRoot("a/b:c", b)
	roots, err := s.Roots()
	if err != nil {
		t.Fatal(err)
	}
	if len(roots) != 2 || roots[0].Name != "a/b:c" || roots[1].Name != "x" || !slices.Equal(roots[1].Digests, []digest.Digest{a, b}) {
		t.Fatalf("Roots = %+v", roots)
	}
	if err := s.AddRoot("", a); !errdefs.IsInvalidArgument(err) {
		t.Errorf("AddRoot with no name: %v", err)
	}
}
