package archive

import (
	"bytes"
	"context"
	"testing"

	"github.com/berth-project/berth/internal/testenv"
)

// maxFuzzInput keeps the fuzzer on small layers (bombs have their own test).
const maxFuzzInput = 64 << 10

// FuzzApply checks that no tar stream writes outside root, or panics. Each
// new input is minimized for long by default: run it with
// -fuzzminimizetime 2s.
func FuzzApply(f *testing.F) {
	for _, l := range maliciousLayers(f, "/tmp") {
		if len(l.tar) <= maxFuzzInput {
			f.Add(l.tar)
		}
	}
	f.Add(layer(f, dir("d"), file("d/f", "x"), hardlink("h", "d/f"), symlink("s", "../host")))
	f.Fuzz(func(t *testing.T, data []byte) {
		testenv.RequiresRoot(t)
		if len(data) > maxFuzzInput {
			return // minimizing big inputs stalls the fuzzer
		}
		s := newSandbox(t)
		_, _ = Apply(context.Background(), s.root, bytes.NewReader(data), ApplyOptions{MaxBytes: 1 << 20})
		s.checkHost(t)
	})
}
