package network

import (
	"fmt"
	"net/netip"

	"github.com/vishvananda/netlink"
)

// HostRoute is one IPv4 route of the host's main table.
type HostRoute struct {
	Dst netip.Prefix
	Dev string
}

// HostRoutes lists the host's IPv4 routes (main table, default route
// included) through netlink, for Create and Default to avoid: a network
// whose subnet overlaps a route would shadow or be shadowed by it.
func HostRoutes() ([]HostRoute, error) {
	routes, err := netlink.RouteList(nil, netlink.FAMILY_V4)
	if err != nil {
		return nil, fmt.Errorf("list host routes: %w", err)
	}
	names := map[int]string{}
	var out []HostRoute
	for _, r := range routes {
		dst := netip.PrefixFrom(netip.IPv4Unspecified(), 0)
		if r.Dst != nil {
			a, ok := netip.AddrFromSlice(r.Dst.IP.To4())
			if !ok {
				continue
			}
			ones, _ := r.Dst.Mask.Size()
			dst = netip.PrefixFrom(a, ones).Masked()
		}
		dev, ok := names[r.LinkIndex]
		if !ok && r.LinkIndex > 0 {
			if l, err := netlink.LinkByIndex(r.LinkIndex); err == nil {
				dev = l.Attrs().Name
			}
			names[r.LinkIndex] = dev
		}
		out = append(out, HostRoute{Dst: dst, Dev: dev})
	}
	return out, nil
}
