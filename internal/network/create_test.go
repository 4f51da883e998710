package network

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/berth-project/berth/internal/errdefs"
)

func TestDefaultAvoidsRoutesAndNetworks(t *testing.T) {
	n, err := Default(Occupied{})
	if err != nil {
		t.Fatal(err)
	}
	if n.Name != "berth" || n.Bridge != "berth0" || n.Subnet.String() != "10.88.0.0/16" || n.Gateway.String() != "10.88.0.1" || n.Internal {
		t.Fatalf("default network: %+v", n)
	}
	occ := Occupied{
		Routes:   []HostRoute{{netip.MustParsePrefix("0.0.0.0/0"), "eth0"}, {netip.MustParsePrefix("10.88.4.0/24"), "eth1"}},
		Networks: []Network{{Name: "x", Subnet: netip.MustParsePrefix("10.89.0.0/24")}},
	}
	n, err = Default(occ)
	if err != nil {
		t.Fatal(err)
	}
	if n.Subnet.String() != "10.90.0.0/16" {
		t.Fatalf("default network with 10.88 routed and 10.89 used: got %s, want 10.90.0.0/16", n.Subnet)
	}
}

func TestCreate(t *testing.T) {
	occ := Occupied{
		Routes:   []HostRoute{{netip.MustParsePrefix("192.0.2.0/24"), "eth0"}},
		Networks: []Network{{Name: "a", Subnet: netip.MustParsePrefix("10.89.0.0/24")}},
	}
	n, err := Create(CreateOptions{Name: "web", Labels: map[string]string{"k": "v"}}, occ)
	if err != nil {
		t.Fatal(err)
	}
	if n.Subnet.String() != "10.89.1.0/24" || n.Gateway.String() != "10.89.1.1" || n.Bridge != "berth-"+n.ID[:9] || len(n.ID) != 64 || n.Labels["k"] != "v" || n.Driver != "bridge" {
		t.Fatalf("created: %+v", n)
	}
	n, err = Create(CreateOptions{Name: "fixed", Subnet: "10.250.3.0/24", Gateway: "10.250.3.254", IPRange: "10.250.3.128/25", Internal: true}, occ)
	if err != nil {
		t.Fatal(err)
	}
	if n.Gateway.String() != "10.250.3.254" || n.IPRange.String() != "10.250.3.128/25" || !n.Internal {
		t.Fatalf("created: %+v", n)
	}
	if f, l := allocRange(n); f.String() != "10.250.3.128" || l.String() != "10.250.3.254" {
		t.Fatalf("range %s-%s", f, l)
	}

	for _, tc := range []struct {
		opts  CreateOptions
		class func(error) bool
		words string
	}{
		{CreateOptions{Name: "o1", Subnet: "10.89.0.128/25"}, errdefs.IsAlreadyExists, `overlaps network "a" (10.89.0.0/24)`},
		{CreateOptions{Name: "o2", Subnet: "192.0.0.0/8"}, errdefs.IsAlreadyExists, "overlaps host route 192.0.2.0/24 dev eth0"},
		{CreateOptions{Name: "host"}, errdefs.IsInvalidArgument, "network mode"},
		{CreateOptions{Name: "-x"}, errdefs.IsInvalidArgument, "must match"},
		{CreateOptions{Name: "g", Subnet: "10.250.4.0/24", Gateway: "10.250.5.1"}, errdefs.IsInvalidArgument, "gateway 10.250.5.1 is not a host address"},
		{CreateOptions{Name: "g2", Subnet: "10.250.4.0/24", Gateway: "10.250.4.255"}, errdefs.IsInvalidArgument, "not a host address"},
		{CreateOptions{Name: "r", Subnet: "10.250.4.0/24", IPRange: "10.250.0.0/16"}, errdefs.IsInvalidArgument, "ip range"},
		{CreateOptions{Name: "s", Subnet: "10.250.4.1/24"}, errdefs.IsInvalidArgument, "host bits"},
		{CreateOptions{Name: "d", Driver: "macvlan"}, errdefs.IsInvalidArgument, "driver"},
		{CreateOptions{Name: "v6", Subnet: "fd00::/64"}, errdefs.IsInvalidArgument, "IPv4"},
		{CreateOptions{Name: "gw", Gateway: "10.0.0.1"}, errdefs.IsInvalidArgument, "need --subnet"},
	} {
		_, err := Create(tc.opts, occ)
		if err == nil || !tc.class(err) || !strings.Contains(err.Error(), tc.words) {
			t.Errorf("Create(%+v) = %v, want an error with %q", tc.opts, err, tc.words)
		}
	}
}

func TestHostRoutes(t *testing.T) {
	routes, err := HostRoutes()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range routes {
		if !r.Dst.IsValid() || !r.Dst.Addr().Is4() {
			t.Fatalf("route %+v", r)
		}
	}
}
