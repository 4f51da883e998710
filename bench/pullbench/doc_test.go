// Package pullbench is the Go side of bench/pull.sh. Its tests run only
// when BERTH_BENCH is set, so `go test ./...` skips them:
//
//	BERTH_BENCH=1 BERTH_BIN_DIR=$PWD/bin go test -count=1 -v -run TestSeed ./bench/pullbench
//	BERTH_BENCH=1 BERTH_BIN_DIR=$PWD/bin go test -count=1 -v -run TestBreakdown ./bench/pullbench
//
// TestSeed puts the test kit's images into the local test registry (the kit
// builds them for tests: it takes a testing.TB); TestBreakdown pulls the big
// image into a fresh root through internal/engine and prints where the time
// of a cold pull goes, phase by phase and layer by layer.
package pullbench

import (
	"os"
	"testing"

	"github.com/berth-project/berth/test/kit"
)

// The references bench/pull.sh pulls.
const (
	BigRef     = kit.RegistryAddr + "/bench/big:1"
	BusyboxRef = kit.RegistryAddr + "/bench/busybox:1"
)

// requireBench skips t unless BERTH_BENCH is set.
func requireBench(t *testing.T) {
	t.Helper()
	if os.Getenv("BERTH_BENCH") == "" {
		t.Skip("skipping: a benchmark helper; set BERTH_BENCH=1 (bench/pull.sh does)")
	}
}
