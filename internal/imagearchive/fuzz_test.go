package imagearchive

import (
	"bytes"
	"context"
	"testing"
)

// FuzzLoad feeds Load mutated archives: it must never panic, and an archive
// it refuses leaves the store as it was.
func FuzzLoad(f *testing.F) {
	cs := newStore(f)
	img := makeImage(f, cs, "fuzz", hostPlatform())
	for _, format := range []Format{DockerArchive, OCIArchive} {
		var buf bytes.Buffer
		if err := Save(context.Background(), &buf, cs, []Named{{Name: busybox, Target: img.manifest}}, format); err != nil {
			f.Fatal(err)
		}
		f.Add(buf.Bytes())
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		dst := newStore(t)
		if _, err := Load(context.Background(), bytes.NewReader(data), dst); err != nil {
			if s := storeState(t, dst); len(s) != 0 {
				t.Fatalf("refused archive (%v) left %v", err, s)
			}
		}
	})
}
