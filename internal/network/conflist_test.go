package network

import (
	"bytes"
	"flag"
	"net/netip"
	"os"
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
