package kit

import (
	"bytes"
	"fmt"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	digest "github.com/opencontainers/go-digest"

	"github.com/berth-project/berth/internal/testenv"
)

// The test registries that scripts/registry.sh runs (Debian's
// docker-registry, i.e. distribution v2, over plain HTTP on the loopback):
// one open to all, one that wants basic auth as RegistryUser.
const (
	RegistryAddr     = "127.0.0.1:5000"
	AuthRegistryAddr = "127.0.0.1:5001"
	RegistryUser     = "berth"
	RegistryPassword = "berth-test"
)

// Registry returns RegistryAddr once it answers /v2/; if it does not, the
// test is skipped (failed when strict: CI starts it, .ci/run).
func Registry(t testing.TB) string {
	t.Helper()
	requireRegistry(t, RegistryAddr, http.StatusOK)
	return RegistryAddr
}

// AuthRegistry returns AuthRegistryAddr once it answers /v2/ asking for
// credentials; as Registry otherwise.
func AuthRegistry(t testing.TB) string {
	t.Helper()
	requireRegistry(t, AuthRegistryAddr, http.StatusUnauthorized)
	return AuthRegistryAddr
}

func requireRegistry(t testing.TB, addr string, want int) {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get("http://" + addr + "/v2/")
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode == want {
			return
		}
		err = fmt.Errorf("GET /v2/: %s, want %d", resp.Status, want)
	}
	msg := fmt.Sprintf("the test registry at %s does not answer (start it with scripts/registry.sh start): %v", addr, err)
	if testenv.Strict() {
		t.Fatalf("requirement not met (BERTH_TEST_STRICT=1): %s", msg)
	}
	t.Skipf("skipping: %s", msg)
}

// PushImage puts img into a test registry as dest ("127.0.0.1:5000/berth-test/busybox:1")
// with skopeo, keeping its digests (the registry holds the very manifest of
// the layout), and logs in for the AuthRegistry. It does nothing when dest
// already names that manifest, so tests may push what they need every time.
func PushImage(t testing.TB, img Image, dest string) {
	t.Helper()
	skopeo := testenv.RequiresBinary(t, "skopeo")
	host, _, _ := strings.Cut(dest, "/")
	switch host {
	case RegistryAddr:
		Registry(t)
	case AuthRegistryAddr:
		AuthRegistry(t)
	}
	creds := func(flag string) []string {
		if host == AuthRegistryAddr {
			return []string{flag, RegistryUser + ":" + RegistryPassword}
		}
		return nil
	}
	if d, err := RegistryDigest(dest); err == nil && d == img.Digest() {
		return
	}
	args := append([]string{"copy", "--quiet", "--preserve-digests", "--dest-tls-verify=false"}, creds("--dest-creds")...)
	cmd := exec.Command(skopeo, append(args, img.OCIRef(), "docker://"+dest)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("kit: push %s to %s: %v\n%s", img.Ref, dest, err, out)
	}
	if d, err := RegistryDigest(dest); err != nil || d != img.Digest() {
		t.Fatalf("kit: push %s to %s: the registry has %s (%v), want %s", img.Ref, dest, d, err, img.Digest())
	}
}

// RegistryDigest returns the digest of the manifest that the test registry
// reference ref ("127.0.0.1:5000/berth-test/busybox:1") names, as skopeo
// reads it.
func RegistryDigest(ref string) (digest.Digest, error) {
	args := []string{"inspect", "--raw", "--tls-verify=false"}
	if strings.HasPrefix(ref, AuthRegistryAddr+"/") {
		args = append(args, "--creds", RegistryUser+":"+RegistryPassword)
	}
	cmd := exec.Command("skopeo", append(args, "docker://"+ref)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	raw, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("skopeo inspect %s: %w: %s", ref, err, bytes.TrimSpace(stderr.Bytes()))
	}
	return digest.FromBytes(raw), nil
}
