package kit

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/berth-project/berth/internal/testenv"
)

// TestImagesDeterministic builds the kit images afresh, outside the cache,
// and wants the digests of the cached ones: the same inputs give the same
// bytes, on any run.
func TestImagesDeterministic(t *testing.T) {
	probe := testenv.Binary(t, "probe")
	for _, set := range []string{"busybox", "big"} {
		t.Run(set, func(t *testing.T) {
			if set == "big" && testing.Short() {
				t.Skip("builds 200 MB")
			}
			cached := map[string]Image{}
			for _, def := range imageSet(set, probe) {
				cached[def.ref] = kitImage(t, "", set, def.ref)
			}
			dir := filepath.Join(t.TempDir(), "layout")
			start := time.Now()
			if _, err := writeLayout(dir, imageSet(set, probe)); err != nil {
				t.Fatal(err)
			}
			t.Logf("built %s afresh in %v", set, time.Since(start).Round(time.Millisecond))
			for ref, want := range cached {
				got, err := readImage(dir, ref)
				if err != nil {
					t.Fatal(err)
				}
				if got.Digest() != want.Digest() {
					t.Errorf("%s: digest %s, the cached image has %s", ref, got.Digest(), want.Digest())
				}
				for i := range want.Layers {
					if got.Layers[i].Digest != want.Layers[i].Digest {
						t.Errorf("%s: layer %d: %s, the cached image has %s", ref, i, got.Layers[i].Digest, want.Layers[i].Digest)
					}
				}
			}
		})
	}
}
