package spec

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata from the current output")

// golden compares s, as indented JSON, with testdata/name (or rewrites the
// file with -update), and checks that the golden text decodes back to s.
func golden(t *testing.T, name string, s *specs.Spec) {
	t.Helper()
	got, err := json.MarshalIndent(s, "", "\t")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the output (run go test -update if the change is intended)\ngot:\n%s", path, got)
	}

	// The golden file is a valid spec that decodes to exactly s and encodes
	// to itself again.
	var back specs.Spec
	if err := json.Unmarshal(want, &back); err != nil {
		t.Fatalf("decode %s: %v", path, err)
	}
	if !reflect.DeepEqual(&back, s) {
		t.Errorf("%s does not decode to the spec it was made from:\ngot  %+v\nwant %+v", path, back, *s)
	}
	again, err := json.MarshalIndent(&back, "", "\t")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(append(again, '\n'), want) {
		t.Errorf("%s does not round-trip through json", path)
	}
}

func TestDefaultGolden(t *testing.T) {
	golden(t, "default.json", Default())
}

func TestRootlessGolden(t *testing.T) {
	s := Default()
	Rootless(s, 1000, 1000)
	golden(t, "rootless.json", s)
}

func TestRootlessNamespacesAndMappings(t *testing.T) {
	s := Default()
	// A spec that already has a user namespace keeps exactly one.
	s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace, Path: "/proc/1/ns/user"})
	Rootless(s, 1234, 5678)
	var users int
	for _, n := range s.Linux.Namespaces {
		switch n.Type {
		case specs.NetworkNamespace:
			t.Errorf("rootless spec keeps a network namespace")
		case specs.UserNamespace:
			users++
			if n.Path != "" {
				t.Errorf("rootless user namespace has path %q, want a new one", n.Path)
			}
		}
	}
	if users != 1 {
		t.Errorf("rootless spec has %d user namespaces, want 1", users)
	}
	wantU := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1234, Size: 1}}
	wantG := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 5678, Size: 1}}
	if !reflect.DeepEqual(s.Linux.UIDMappings, wantU) || !reflect.DeepEqual(s.Linux.GIDMappings, wantG) {
		t.Errorf("mappings = %+v %+v, want %+v %+v", s.Linux.UIDMappings, s.Linux.GIDMappings, wantU, wantG)
	}
	if s.Linux.Resources != nil {
		t.Errorf("rootless spec keeps resources %+v", s.Linux.Resources)
	}
}

func TestRootlessNilLinux(t *testing.T) {
	s := &specs.Spec{Version: specs.Version}
	Rootless(s, 1000, 1000)
	if s.Linux == nil || len(s.Linux.Namespaces) != 1 || s.Linux.Namespaces[0].Type != specs.UserNamespace {
		t.Fatalf("Rootless of a spec without linux section: %+v", s.Linux)
	}
}

// Each call of Default returns slices of its own: changing one result must
// change neither the next one nor the package's defaults.
func TestDefaultReturnsCopies(t *testing.T) {
	a := Default()
	a.Process.Capabilities.Bounding[0] = "CAP_SYS_ADMIN"
	a.Process.Capabilities.Effective[0] = "CAP_SYS_ADMIN"
	a.Process.Capabilities.Permitted[0] = "CAP_SYS_ADMIN"
	a.Linux.MaskedPaths[0] = "/changed"
	a.Linux.ReadonlyPaths[0] = "/changed"
	a.Process.Capabilities.Bounding = append(a.Process.Capabilities.Bounding, "CAP_SYS_MODULE")
	a.Linux.MaskedPaths = append(a.Linux.MaskedPaths, "/appended")

	b := Default()
	for name, got := range map[string][]string{
		"bounding":  b.Process.Capabilities.Bounding,
		"effective": b.Process.Capabilities.Effective,
		"permitted": b.Process.Capabilities.Permitted,
	} {
		if !reflect.DeepEqual(got, []string{"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"}) {
			t.Errorf("%s capabilities of a second Default() = %q", name, got)
		}
	}
	if b.Linux.MaskedPaths[0] != "/proc/acpi" || len(b.Linux.MaskedPaths) != len(DefaultMaskedPaths) {
		t.Errorf("masked paths of a second Default() = %q", b.Linux.MaskedPaths)
	}
	if b.Linux.ReadonlyPaths[0] != "/proc/bus" {
		t.Errorf("readonly paths of a second Default() = %q", b.Linux.ReadonlyPaths)
	}
	if DefaultCapabilities[0] != "CAP_AUDIT_WRITE" || DefaultMaskedPaths[0] != "/proc/acpi" || DefaultReadonlyPaths[0] != "/proc/bus" {
		t.Errorf("package defaults changed through a Default() result")
	}

	// The sets within one spec do not share storage either.
	c := Default()
	c.Process.Capabilities.Bounding[0] = "CAP_CHOWN"
	if c.Process.Capabilities.Effective[0] != "CAP_AUDIT_WRITE" || c.Process.Capabilities.Permitted[0] != "CAP_AUDIT_WRITE" {
		t.Errorf("bounding, effective and permitted share one slice")
	}
}
