package integration

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-project/berth/test/kit"
)

// TestSpecDefaultSeccomp: `spec` writes Docker's default seccomp profile,
// and a container run from it is filtered (Seccomp: 2): unshare(CLONE_NEWUSER),
// which needs no capability, is refused by the profile, while an ordinary
// shell workload runs. The same bundle without the profile may unshare.
func TestSpecDefaultSeccomp(t *testing.T) {
	r := newRuntime(t)
	b := kit.NewBundle(t)
	cfg, s := specFromCLI(t, r, b)
	linux := s["linux"].(map[string]any)
	sc, _ := linux["seccomp"].(map[string]any)
	if sc == nil || sc["defaultAction"] != "SCMP_ACT_ERRNO" {
		t.Fatalf("spec's seccomp section: %v, want Docker's default profile (defaultAction SCMP_ACT_ERRNO)", sc)
	}
	proc := s["process"].(map[string]any)
	proc["terminal"] = false
	proc["args"] = []string{"/bin/sh", "-c", "grep '^Seccomp:' /proc/self/status; /bin/busybox unshare -U true 2>/dev/null && echo unshare-allowed; echo done"}
	linux["cgroupsPath"] = b.Spec.Linux.CgroupsPath
	writeJSON(t, cfg, s)
	out, errs, code := r.exec(nil, "run", "--bundle", b.Dir, "spec-seccomp")
	if code != 0 {
		t.Fatalf("run: exit %d: %s", code, errs)
	}
	if !strings.Contains(out, "Seccomp:\t2") || strings.Contains(out, "unshare-allowed") || !strings.Contains(out, "done") {
		t.Errorf("inside: %q, want Seccomp 2, unshare denied, the shell running", out)
	}
	if strings.Contains(errs, "seccomp") {
		t.Errorf("stderr mentions seccomp (warnings belong in --debug): %q", errs)
	}
	assertNoLeaks(t, r, "spec-seccomp", nil)

	delete(linux, "seccomp")
	writeJSON(t, cfg, s)
	out, errs, code = r.exec(nil, "run", "--bundle", b.Dir, "spec-noseccomp")
	if code != 0 || !strings.Contains(out, "Seccomp:\t0") || !strings.Contains(out, "unshare-allowed") {
		t.Errorf("without the profile: exit %d, %q %s; want Seccomp 0 and unshare allowed (else the check above proves nothing)", code, out, errs)
	}
}

// specFromCLI replaces b's config.json with the one `spec` writes and
// returns its path and its decoded JSON.
func specFromCLI(t *testing.T, r *runtimeCLI, b *kit.Bundle) (string, map[string]any) {
	t.Helper()
	cfg := filepath.Join(b.Dir, "config.json")
	if err := os.Remove(cfg); err != nil {
		t.Fatal(err)
	}
	r.must("spec", "--bundle", b.Dir)
	data, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var s map[string]any
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatalf("config.json from spec: %v", err)
	}
	return cfg, s
}

// writeJSON writes v as JSON to path.
func writeJSON(t *testing.T, path string, v any) {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
