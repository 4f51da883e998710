// Package testenv lets tests state what the host must provide.
//
// A test that needs root, cgroup v2 or a binary calls the matching Requires
// function. On a developer's laptop a missing requirement skips the test; in CI
// (BERTH_TEST_STRICT=1, which .ci/run sets) it fails it, so a CI run can never
// go green by skipping what it was meant to prove.
package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// Strict reports whether missing requirements fail tests instead of skipping them.
func Strict() bool { return os.Getenv("BERTH_TEST_STRICT") == "1" }

func missing(t testing.TB, format string, args ...any) {
	t.Helper()
	if Strict() {
		t.Fatalf("requirement not met (BERTH_TEST_STRICT=1): "+format, args...)
	}
	t.Skipf("skipping: "+format, args...)
}

// RequiresRoot skips (or fails, when strict) unless the test runs as root.
func RequiresRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		missing(t, "needs root")
	}
}

// RequiresCgroup2 skips (or fails, when strict) unless /sys/fs/cgroup is a
// unified (cgroup v2 only) hierarchy.
func RequiresCgroup2(t testing.TB) {
	t.Helper()
	if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err != nil {
		missing(t, "needs a cgroup v2 host")
	}
}

// RequiresCgroup1 skips (or fails, when strict) unless v1 controllers are mounted.
func RequiresCgroup1(t testing.TB) {
	t.Helper()
	if _, err := os.Stat("/sys/fs/cgroup/memory/memory.limit_in_bytes"); err != nil {
		missing(t, "needs a cgroup v1 (or hybrid) host")
	}
}

// RequiresBinary skips (or fails, when strict) unless name is on PATH, and
// returns its path.
func RequiresBinary(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		missing(t, "needs %s on PATH", name)
	}
	return p
}

// RepoRoot returns the root of the source tree (the directory holding go.mod).
func RepoRoot(t testing.TB) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// Binary returns the path of a built Berth binary: $BERTH_BIN_DIR/name, or
// bin/name under the repository root. The test fails (or skips on a laptop)
// when it has not been built ("make build").
func Binary(t testing.TB, name string) string {
	t.Helper()
	dir := os.Getenv("BERTH_BIN_DIR")
	if dir == "" {
		dir = filepath.Join(RepoRoot(t), "bin")
	}
	p := filepath.Join(dir, name)
	if _, err := os.Stat(p); err != nil {
		missing(t, "%s is not built (run make build): %v", p, err)
	}
	return p
}
