package kit_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-project/berth/internal/testenv"
	"github.com/berth-project/berth/test/kit"
)

func TestNewBundle(t *testing.T) {
	b := kit.NewBundle(t)
	if b.Path() != b.Dir || b.Rootfs != filepath.Join(b.Dir, "rootfs") {
		t.Errorf("path %q dir %q rootfs %q", b.Path(), b.Dir, b.Rootfs)
	}
	if _, err := os.Stat(filepath.Join(b.Rootfs, "probe")); err != nil {
		t.Errorf("rootfs: %v", err)
	}
	load := func() specs.Spec {
		t.Helper()
		var s specs.Spec
		data, err := os.ReadFile(filepath.Join(b.Dir, "config.json"))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(data, &s); err != nil {
			t.Fatalf("config.json: %v", err)
		}
		return s
	}
	s := load()
	if s.Process.Terminal || !slices.Equal(s.Process.Args, []string{"/probe", "report"}) ||
		s.Hostname != "berth-test" || s.Root.Path != "rootfs" {
		t.Errorf("saved spec: terminal %v args %q hostname %q root %q", s.Process.Terminal, s.Process.Args, s.Hostname, s.Root.Path)
	}
	if !strings.HasPrefix(s.Linux.CgroupsPath, kit.CgroupParent+"/test-") {
		t.Errorf("cgroups path %q, want one under %s", s.Linux.CgroupsPath, kit.CgroupParent)
	}
	if other := kit.NewBundle(t); other.Spec.Linux.CgroupsPath == s.Linux.CgroupsPath {
		t.Errorf("two bundles share cgroups path %q", s.Linux.CgroupsPath)
	}

	b.Spec.Process.Args = []string{"/probe", "exit", "3"}
	if err := b.Save(); err != nil {
		t.Fatal(err)
	}
	if got := load().Process.Args; !slices.Equal(got, b.Spec.Process.Args) {
		t.Errorf("after Save: args %q", got)
	}
}

// TestBundleRemovesCgroups creates the bundle's cgroup the way a runtime does
// and checks that it is gone after the test that made the bundle.
func TestBundleRemovesCgroups(t *testing.T) {
	testenv.RequiresRoot(t)
	testenv.RequiresCgroup1(t)
	var dirs []string
	t.Run("bundle", func(t *testing.T) {
		b := kit.NewBundle(t)
		for _, c := range []string{"pids", "memory"} {
			d := filepath.Join("/sys/fs/cgroup", c, b.Spec.Linux.CgroupsPath)
			if err := os.MkdirAll(filepath.Join(d, "sub"), 0o755); err != nil {
				t.Fatal(err)
			}
			dirs = append(dirs, d)
		}
	})
	for _, d := range dirs {
		if _, err := os.Stat(d); !os.IsNotExist(err) {
			t.Errorf("%s still exists (%v)", d, err)
			_ = os.Remove(filepath.Join(d, "sub"))
			_ = os.Remove(d)
		}
	}
}
