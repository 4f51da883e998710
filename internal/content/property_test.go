package content

import (
	"math/rand/v2"
	"testing"

	digest "github.com/opencontainers/go-digest"
)

// Random blobs, written in random chunks and sometimes interrupted and
// resumed, read back byte for byte.
func TestRandomBlobsRoundTrip(t *testing.T) {
	s := newStore(t)
	rng := rand.New(rand.NewPCG(1, 2))
	var all []digest.Digest
	seen := map[digest.Digest][]byte{}
	for i := range 200 {
		blob := make([]byte, rng.IntN(1<<rng.IntN(17)+1))
		for j := range blob {
			blob[j] = byte(rng.Uint32())
		}
		d := digest.FromBytes(blob)
		if _, dup := seen[d]; dup {
			continue
		}
		seen[d] = blob
		ref := d.String()
		w, err := s.Writer(ref, d, int64(len(blob)))
		if err != nil {
			t.Fatalf("blob %d: %v", i, err)
		}
		for off := 0; off < len(blob); {
			if rng.IntN(8) == 0 { // interrupt and resume
				w.Close()
				if w, err = s.Writer(ref, d, int64(len(blob))); err != nil {
					t.Fatal(err)
				}
				if w.Offset() != int64(off) {
					t.Fatalf("blob %d: resumed at %d, want %d", i, w.Offset(), off)
				}
			}
			n := min(len(blob)-off, 1+rng.IntN(8192))
			if _, err := w.Write(blob[off : off+n]); err != nil {
				t.Fatal(err)
			}
			off += n
		}
		if err := w.Commit(); err != nil {
			t.Fatalf("blob %d (%d bytes): %v", i, len(blob), err)
		}
		all = append(all, d)
	}
	for _, d := range all {
		equal(t, readAll(t, s, d), seen[d])
		if info, err := s.Info(d); err != nil || info.Size != int64(len(seen[d])) {
			t.Fatalf("Info(%s) = %+v, %v", d, info, err)
		}
	}
	assertClean(t, s, all...)
}
