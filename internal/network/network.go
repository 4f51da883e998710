package network

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/netip"
	"regexp"
	"time"

	"github.com/berth-project/berth/internal/errdefs"
)

// DefaultName is the network a container joins when it names none (docker's
// "bridge"); DefaultBridge is its bridge device.
const (
	DefaultName   = "berth"
	DefaultBridge = "berth0"
	// DriverBridge is the only driver: a Linux bridge with veth pairs.
	DriverBridge = "bridge"
)

// Network is the record of one network: what `network create` was given and
// what was chosen for it. It is plain data: the engine stores it, and
// ConfList turns it into the CNI configuration the plugins run with.
type Network struct {
	Name   string `json:"name"`
	ID     string `json:"id"`     // 64 hex digits
	Driver string `json:"driver"` // "bridge"
	// Bridge is the host's bridge device: berth0 for the default network,
	// berth-<first 9 hex digits of ID> for the others (IFNAMSIZ allows 15).
	Bridge  string       `json:"bridge"`
	Subnet  netip.Prefix `json:"subnet"`
	Gateway netip.Addr   `json:"gateway"` // on the bridge; the containers' default route
	// IPRange narrows where addresses are handed out (docker's --ip-range);
	// the zero Prefix means the whole subnet.
	IPRange netip.Prefix `json:"ipRange,omitzero"`
	// Internal networks (docker's --internal) have no masquerade and give
	// their containers no default route: they reach their peers and the
	// gateway address only.
	Internal bool              `json:"internal,omitempty"`
	Labels   map[string]string `json:"labels,omitempty"`
	Created  time.Time         `json:"created"`
}

// ShortID is the first 12 hex digits of the ID, as docker shows it.
func (n Network) ShortID() string {
	if len(n.ID) < 12 {
		return n.ID
	}
	return n.ID[:12]
}

// reserved names are network modes, not networks.
var reserved = map[string]bool{"none": true, "host": true, "bridge": true, "default": true, "container": true}

// namePattern is docker's rule for network names.
var namePattern = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`)

// ValidateName checks a network name: docker's character rule, at most 64
// characters, and none of the mode names (none, host, bridge, container,
// default).
func ValidateName(name string) error {
	if name == "" || len(name) > 64 || !namePattern.MatchString(name) {
		return fmt.Errorf("network name %q: must match [a-zA-Z0-9][a-zA-Z0-9_.-]* (at most 64 characters): %w", name, errdefs.ErrInvalidArgument)
	}
	if reserved[name] {
		return fmt.Errorf("network name %q is a network mode: %w", name, errdefs.ErrInvalidArgument)
	}
	return nil
}

// Validate checks a record before it is used: a valid name, a bridge name
// that fits a Linux interface name, an IPv4 subnet with the gateway and
// the range inside it.
func (n Network) Validate() error {
	if err := ValidateName(n.Name); err != nil && n.Name != DefaultName {
		return err
	}
	if n.Driver != DriverBridge {
		return fmt.Errorf("network %q: driver %q: only %q is supported: %w", n.Name, n.Driver, DriverBridge, errdefs.ErrInvalidArgument)
	}
	if n.Bridge == "" || len(n.Bridge) > 15 {
		return fmt.Errorf("network %q: bridge name %q: 1 to 15 characters: %w", n.Name, n.Bridge, errdefs.ErrInvalidArgument)
	}
	if !n.Subnet.IsValid() || !n.Subnet.Addr().Is4() || n.Subnet.Bits() > 30 {
		return fmt.Errorf("network %q: subnet %s: an IPv4 prefix of /30 or wider: %w", n.Name, n.Subnet, errdefs.ErrInvalidArgument)
	}
	if n.Subnet != n.Subnet.Masked() {
		return fmt.Errorf("network %q: subnet %s has host bits set (%s): %w", n.Name, n.Subnet, n.Subnet.Masked(), errdefs.ErrInvalidArgument)
	}
	if !usable(n.Subnet, n.Gateway) {
		return fmt.Errorf("network %q: gateway %s is not a host address of %s: %w", n.Name, n.Gateway, n.Subnet, errdefs.ErrInvalidArgument)
	}
	if n.IPRange.IsValid() {
		if n.IPRange != n.IPRange.Masked() || n.IPRange.Bits() < n.Subnet.Bits() || !n.Subnet.Contains(n.IPRange.Addr()) {
			return fmt.Errorf("network %q: ip range %s is not a prefix inside %s: %w", n.Name, n.IPRange, n.Subnet, errdefs.ErrInvalidArgument)
		}
	}
	return nil
}

// usable reports whether a is a host address of p: inside it, neither the
// network address nor the broadcast address.
func usable(p netip.Prefix, a netip.Addr) bool {
	if !a.IsValid() || !p.Contains(a) {
		return false
	}
	return a != p.Masked().Addr() && a != lastAddr(p)
}

// lastAddr is the highest address of p (its broadcast address for IPv4).
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().As4()
	host := 32 - p.Bits()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	if host > 0 {
		v |= 1<<host - 1
	}
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// newID is 32 random bytes in hex, as docker's network IDs.
func newID() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	return hex.EncodeToString(b[:])
}

// bridgeFor names the bridge of a user network.
func bridgeFor(id string) string { return "berth-" + id[:9] }
