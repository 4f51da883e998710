package network

import (
	"bytes"
	"flag"
	"net/netip"
	"os"
	"slices"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func testNetwork() Network {
	return Network{
		Name: "web", ID: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		Driver: "bridge", Bridge: "berth-012345678",
		Subnet: netip.MustParsePrefix("10.89.3.0/24"), Gateway: netip.MustParseAddr("10.89.3.1"),
	}
}

func TestConfListGolden(t *testing.T) {
	internal := testNetwork()
	internal.Name, internal.Internal = "inside", true
	internal.IPRange = netip.MustParsePrefix("10.89.3.128/25")
	for name, n := range map[string]Network{"conflist.golden": testNetwork(), "conflist-internal.golden": internal} {
		got, err := ConfList(n, "/run/berth/cni")
		if err != nil {
			t.Fatal(err)
		}
		path := "testdata/" + name
		if *update {
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs:\n%s", name, got)
		}
	}
}

// An attachment without port mappings runs no portmap plugin, and what
// libcni caches with it (what Detach runs DEL with) says so too.
func TestAttachListWithoutPorts(t *testing.T) {
	m, err := New(Config{StateDir: t.TempDir(), PluginDirs: []string{t.TempDir()}})
	if err != nil {
		t.Fatal(err)
	}
	types := func(ports bool) []string {
		list, err := m.attachList(testNetwork(), ports)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, p := range list.Plugins {
			out = append(out, p.Network.Type)
		}
		if !bytes.Contains(list.Bytes, []byte(`"portmap"`)) != !ports {
			t.Errorf("ports %v: the list's bytes (cached by libcni) disagree with its plugins %v", ports, out)
		}
		return out
	}
	if got := types(false); !slices.Equal(got, []string{"bridge", "firewall"}) {
		t.Errorf("plugins without ports: %v", got)
	}
	if got := types(true); !slices.Equal(got, []string{"bridge", "portmap", "firewall"}) {
		t.Errorf("plugins with ports: %v", got)
	}
}
