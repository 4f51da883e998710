package pullbench

import (
	"testing"

	"github.com/berth-project/berth/test/kit"
)

// TestSeed pushes kit.BigImage as BigRef and kit.BusyboxImage as BusyboxRef
// (idempotent: kit.PushImage skips what the registry holds, digests kept).
func TestSeed(t *testing.T) {
	requireBench(t)
	kit.Registry(t)
	kit.PushImage(t, kit.BigImage(t, ""), BigRef)
	kit.PushImage(t, kit.BusyboxImage(t, ""), BusyboxRef)
	t.Logf("%s and %s are in the registry", BigRef, BusyboxRef)
}
