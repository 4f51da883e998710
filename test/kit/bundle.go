package kit

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-project/berth/internal/spec"
)

// CgroupParent is the cgroup under which every test bundle's cgroup lives.
const CgroupParent = "/berth"

// Bundle is an OCI bundle in a test's temporary directory: Dir/config.json
// (written by Save from Spec) and the rootfs at Dir/rootfs.
type Bundle struct {
	Dir    string
	Rootfs string
	Spec   *specs.Spec
}

// NewBundle builds a bundle with a kit rootfs and saves the spec of
// spec.Default() changed for tests: no terminal, args "/probe report",
// hostname "berth-test", cgroups path "/berth/test-<random>". The rest
// (namespaces, mounts, read-only root, capabilities…) stays the default.
//
// When the test ends, the bundle's cgroup is removed from every hierarchy
// (and the /berth parent once no bundle of this process uses it); a cgroup
// that cannot be removed, because a container still runs in it, fails the
// test. Remove the container first (register its cleanup after NewBundle).
func NewBundle(t testing.TB) *Bundle {
	t.Helper()
	dir := t.TempDir()
	b := &Bundle{Dir: dir, Rootfs: filepath.Join(dir, "rootfs"), Spec: spec.Default()}
	Rootfs(t, b.Rootfs)
	b.Spec.Process.Terminal = false
	b.Spec.Process.Args = []string{"/probe", "report"}
	b.Spec.Hostname = "berth-test"
	b.Spec.Linux.CgroupsPath = CgroupParent + "/test-" + randomHex(6)
	trackCgroup(t, b)
	if err := b.Save(); err != nil {
		t.Fatalf("kit: %v", err)
	}
	return b
}

// Path returns the bundle's path, as given to a runtime's --bundle flag.
func (b *Bundle) Path() string { return b.Dir }

// Save writes Spec to Dir/config.json.
func (b *Bundle) Save() error {
	data, err := json.MarshalIndent(b.Spec, "", "\t")
	if err != nil {
		return fmt.Errorf("encode spec of bundle %s: %w", b.Dir, err)
	}
	p := filepath.Join(b.Dir, "config.json")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", p, err)
	}
	return nil
}

func randomHex(n int) string {
	buf := make([]byte, n)
	_, _ = rand.Read(buf) // crypto/rand.Read never fails
	return hex.EncodeToString(buf)
}
