package network

import (
	"fmt"
	"maps"
	"net/netip"
	"time"

	"github.com/berth-project/berth/internal/errdefs"
)

// CreateOptions are the flags of `network create`. Empty strings mean
// "choose": a free subnet, its first host address as the gateway, the whole
// subnet as the range.
type CreateOptions struct {
	Name     string
	Driver   string // "" or "bridge"
	Subnet   string // CIDR, e.g. "10.250.3.0/24"
	Gateway  string // an address inside Subnet
	IPRange  string // a CIDR inside Subnet
	Internal bool
	Labels   map[string]string
}

// Occupied is what a new network's subnet must not overlap: the other
// networks and the host's routes (HostRoutes).
type Occupied struct {
	Networks []Network
	Routes   []HostRoute
}

// defaultPool lists the /16s tried, in order, for the default network: the
// first one that overlaps no network and no host route is taken. 10.88/16
// first (podman's choice), then the rest of 10.88–10.99, then docker's
// 172.17–172.31.
func defaultPool() []netip.Prefix {
	var out []netip.Prefix
	for b := 88; b <= 99; b++ {
		out = append(out, netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(b), 0, 0}), 16))
	}
	for b := 17; b <= 31; b++ {
		out = append(out, netip.PrefixFrom(netip.AddrFrom4([4]byte{172, byte(b), 0, 0}), 16))
	}
	return out
}

// userPool lists the /24s tried, in order, for a user network created
// without --subnet: 10.89.0.0/24, 10.89.1.0/24, … up to 10.99.255.0/24.
func userPool(yield func(netip.Prefix) bool) {
	for b := 89; b <= 99; b++ {
		for c := 0; c <= 255; c++ {
			if !yield(netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(b), byte(c), 0}), 24)) {
				return
			}
		}
	}
}

// Default makes the record of the default network "berth" on bridge berth0,
// with the first /16 of the default pool that overlaps nothing in occ. The
// engine calls it the first time a container needs the default network and
// stores the record; the bridge itself appears with the first attachment.
func Default(occ Occupied) (Network, error) {
	for _, p := range defaultPool() {
		if conflict(p, occ) == "" {
			return build(newID(), DefaultName, DefaultBridge, p, netip.Addr{}, netip.Prefix{}, CreateOptions{})
		}
	}
	return Network{}, fmt.Errorf("default network: every candidate subnet (10.88-99.0.0/16, 172.17-31.0.0/16) overlaps a network or a host route: %w", errdefs.ErrUnavailable)
}

// Create makes the record of a user network from the flags of `network
// create`: the name checked, a subnet that overlaps no network and no host
// route (chosen from 10.89.0.0/24 upwards when not given), the gateway and
// the range checked against it. Names are not checked against the existing
// networks here: that is the store's job.
func Create(opts CreateOptions, occ Occupied) (Network, error) {
	if err := ValidateName(opts.Name); err != nil {
		return Network{}, err
	}
	if opts.Driver != "" && opts.Driver != DriverBridge {
		return Network{}, fmt.Errorf("network %q: driver %q: only %q is supported: %w", opts.Name, opts.Driver, DriverBridge, errdefs.ErrInvalidArgument)
	}
	var gw netip.Addr
	var rng netip.Prefix
	var err error
	if opts.Gateway != "" {
		if gw, err = netip.ParseAddr(opts.Gateway); err != nil {
			return Network{}, fmt.Errorf("network %q: gateway %q: %w", opts.Name, opts.Gateway, errdefs.ErrInvalidArgument)
		}
	}
	if opts.IPRange != "" {
		if rng, err = netip.ParsePrefix(opts.IPRange); err != nil {
			return Network{}, fmt.Errorf("network %q: ip range %q: %w", opts.Name, opts.IPRange, errdefs.ErrInvalidArgument)
		}
	}
	var subnet netip.Prefix
	if opts.Subnet == "" {
		if gw.IsValid() || rng.IsValid() {
			return Network{}, fmt.Errorf("network %q: --gateway and --ip-range need --subnet: %w", opts.Name, errdefs.ErrInvalidArgument)
		}
		for p := range userPool {
			if conflict(p, occ) == "" {
				subnet = p
				break
			}
		}
		if !subnet.IsValid() {
			return Network{}, fmt.Errorf("network %q: no free subnet left in 10.89.0.0/24-10.99.255.0/24; give --subnet: %w", opts.Name, errdefs.ErrUnavailable)
		}
	} else {
		if subnet, err = netip.ParsePrefix(opts.Subnet); err != nil {
			return Network{}, fmt.Errorf("network %q: subnet %q: %w", opts.Name, opts.Subnet, errdefs.ErrInvalidArgument)
		}
		if c := conflict(subnet.Masked(), occ); c != "" {
			return Network{}, fmt.Errorf("network %q: subnet %s overlaps %s: %w", opts.Name, subnet, c, errdefs.ErrAlreadyExists)
		}
	}
	id := newID()
	return build(id, opts.Name, bridgeFor(id), subnet, gw, rng, opts)
}

// build fills in a record and validates it.
func build(id, name, bridge string, subnet netip.Prefix, gw netip.Addr, rng netip.Prefix, opts CreateOptions) (Network, error) {
	if !gw.IsValid() && subnet.IsValid() {
		gw = subnet.Masked().Addr().Next()
	}
	n := Network{
		ID:       id,
		Name:     name,
		Driver:   DriverBridge,
		Bridge:   bridge,
		Subnet:   subnet,
		Gateway:  gw,
		IPRange:  rng,
		Internal: opts.Internal,
		Labels:   maps.Clone(opts.Labels),
		Created:  time.Now().UTC().Truncate(time.Second),
	}
	if err := n.Validate(); err != nil {
		return Network{}, err
	}
	if n.IPRange.IsValid() && n.IPRange.Bits() < 31 && !hasFree(n) {
		return Network{}, fmt.Errorf("network %q: ip range %s holds no address but the gateway: %w", n.Name, n.IPRange, errdefs.ErrInvalidArgument)
	}
	return n, nil
}

// hasFree reports whether the range leaves at least one address besides
// the gateway.
func hasFree(n Network) bool {
	first, last := allocRange(n)
	return first != last || first != n.Gateway
}

// conflict names what p overlaps in occ ("network \"x\" (10.1.0.0/16)" or
// "host route 10.1.2.0/24 dev eth0"), or "" when nothing. Default routes are
// ignored: everything overlaps them.
func conflict(p netip.Prefix, occ Occupied) string {
	for _, n := range occ.Networks {
		if n.Subnet.IsValid() && n.Subnet.Overlaps(p) {
			return fmt.Sprintf("network %q (%s)", n.Name, n.Subnet)
		}
	}
	for _, r := range occ.Routes {
		if r.Dst.Bits() == 0 || !r.Dst.Addr().Is4() {
			continue
		}
		if r.Dst.Overlaps(p) {
			return fmt.Sprintf("host route %s dev %s", r.Dst, r.Dev)
		}
	}
	return ""
}
