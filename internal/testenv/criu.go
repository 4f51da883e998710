package testenv

import (
	"os/exec"
	"strings"
	"testing"
)

// RequiresCriu skips (or fails, when strict) unless criu is on PATH, and
// then skips — in strict mode too — unless `criu check` passes: a host whose
// kernel CRIU cannot handle cannot prove checkpoint/restore, whatever CI
// wants (docs/conformance.md says which hosts could). It returns criu's path.
func RequiresCriu(t testing.TB) string {
	t.Helper()
	p := RequiresBinary(t, "criu")
	if reason := CriuCheck(p); reason != "" {
		t.Skipf("skipping: `criu check` fails on this host, so CRIU cannot checkpoint here: %s", reason)
	}
	return p
}

// CriuCheck runs `criu check` with the criu at path and returns why it
// failed (its first error line), or "" when it passed.
func CriuCheck(path string) string {
	out, err := exec.Command(path, "check").CombinedOutput()
	if err == nil && !strings.Contains(string(out), "Error") {
		return ""
	}
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, "Error") {
			return strings.TrimSpace(line)
		}
	}
	if err != nil {
		return err.Error()
	}
	return strings.TrimSpace(string(out))
}
