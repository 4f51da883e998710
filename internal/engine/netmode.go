package engine

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/linux/netns"
	"github.com/berth-project/berth/internal/network"
	"github.com/berth-project/berth/internal/store"
)

// NetworkOptions are run and create's network flags beside --network.
type NetworkOptions struct {
	Aliases    []string // --network-alias (user networks)
	IP         string   // --ip: a static address (user networks)
	MAC        string   // --mac-address
	DNS        []string // --dns: nameservers instead of the host's
	DNSSearch  []string // --dns-search: search domains instead of the host's ("." for none)
	DNSOptions []string // --dns-option: resolver options instead of the host's
	AddHosts   []string // --add-host HOST:IP ("host-gateway" is the network's gateway)
	Publish    []string // -p, docker's syntax (network.ParsePublish)
	PublishAll bool     // -P: every exposed port on a free host port
}

// ContainerNet is what a container's record keeps of its network flags;
// host ports are chosen at each start.
type ContainerNet struct {
	// Networks are the networks the container joins at start, in order
	// (eth0, eth1, …).
	Networks   []Endpoint            `json:"networks,omitempty"`
	Publish    []network.PublishSpec `json:"publish,omitempty"`
	PublishAll bool                  `json:"publishAll,omitempty"`
	DNS        []string              `json:"dns,omitempty"`
	DNSSearch  []string              `json:"dnsSearch,omitempty"`
	DNSOptions []string              `json:"dnsOptions,omitempty"`
	AddHosts   []string              `json:"addHosts,omitempty"`
}

// Endpoint is one network of a container, as it asked to join it.
type Endpoint struct {
	Name    string   `json:"name"`
	ID      string   `json:"id"`
	Aliases []string `json:"aliases,omitempty"`
	IP      string   `json:"ip,omitempty"`
	MAC     string   `json:"mac,omitempty"`
}

// Network modes besides a network's name (Container.Network).
const (
	modeNone   = "none"
	modeHost   = "host"
	modeBridge = "bridge" // the default network, as docker names it
)

// containerNetwork decides a new container's network from --network and
// its options: it fills in c.Network, c.NetNS and c.Net and returns the
// network namespace for the spec. Modes: "" (bridge; for a rootless
// engine slirp4netns, or none when slirp4netns is not installed or may not
// open /dev/net/tun), "bridge"/"default"/"berth" (the default network,
// made on first use), a user network's name or ID, "slirp4netns"
// (user-mode networking in a namespace of its own, netslirp.go), "none" (a
// namespace of its own with loopback only), "host", and
// "container:<name|id>".
func (e *Engine) containerNetwork(ctx context.Context, c *Container, o CreateOptions, undo *undoStack) (nsPath string, err error) {
	mode, opts := o.Network, o.Net
	if mode == "" {
		mode = modeBridge
		if e.rootlessNet() {
			mode = modeSlirp
			if _, err := network.SlirpBinary(); err != nil {
				mode = modeNone
			}
		}
	}
	if err := checkNetworkFlags(opts); err != nil {
		return "", err
	}
	c.Net = ContainerNet{PublishAll: opts.PublishAll, DNS: opts.DNS, DNSSearch: opts.DNSSearch, DNSOptions: opts.DNSOptions, AddHosts: opts.AddHosts}
	for _, p := range opts.Publish {
		spec, err := network.ParsePublish(p)
		if err != nil {
			return "", err
		}
		c.Net.Publish = append(c.Net.Publish, spec)
	}
	bridged := mode != modeNone && mode != modeHost && mode != modeSlirp && !strings.HasPrefix(mode, "container:")
	if !bridged {
		if (len(c.Net.Publish) > 0 || opts.PublishAll) && mode != modeSlirp {
			return "", fmt.Errorf("--network %s: publishing ports (-p, -P) needs a bridge network: %w", mode, errdefs.ErrInvalidArgument)
		}
		if len(opts.Aliases) > 0 || opts.IP != "" {
			return "", fmt.Errorf("--network %s: --network-alias and --ip need a user network: %w", mode, errdefs.ErrInvalidArgument)
		}
		if opts.MAC != "" {
			return "", fmt.Errorf("--network %s: --mac-address needs a bridge network: %w", mode, errdefs.ErrInvalidArgument)
		}
	}
	switch {
	case mode == modeHost:
		c.Network = modeHost
		return "host", nil
	case strings.HasPrefix(mode, "container:"):
		if len(opts.DNS)+len(opts.DNSSearch)+len(opts.DNSOptions)+len(opts.AddHosts) > 0 {
			return "", fmt.Errorf("--network %s: --dns, --dns-search, --dns-option and --add-host conflict with sharing a network namespace: %w", mode, errdefs.ErrInvalidArgument)
		}
		other, err := e.container(strings.TrimPrefix(mode, "container:"))
		if err != nil {
			return "", err
		}
		st := e.State(ctx, other)
		if !st.Running {
			return "", fmt.Errorf("--network %s: that container is not running: %w", mode, errdefs.ErrFailedPrecondition)
		}
		c.Network = "container:" + other.ID
		return "/proc/" + strconv.Itoa(st.Pid) + "/ns/net", nil
	case mode == "pasta":
		return "", rootlessNetworking("--network " + mode)
	case mode == modeSlirp:
		if _, err := network.SlirpBinary(); err != nil {
			return "", fmt.Errorf("--network %s: %w", mode, err)
		}
		c.Network = modeSlirp
	case mode == modeNone:
		c.Network = modeNone
	default:
		if e.rootlessNet() {
			return "", rootlessNetworking("--network " + mode)
		}
		n, err := e.networkFor(mode)
		if err != nil {
			return "", err
		}
		ep := Endpoint{Name: n.Name, ID: n.ID, MAC: opts.MAC}
		if n.Name == network.DefaultName {
			c.Network = modeBridge
			if len(opts.Aliases) > 0 || opts.IP != "" {
				return "", fmt.Errorf("--network-alias and --ip need a user network, not the default one: %w", errdefs.ErrInvalidArgument)
			}
		} else {
			c.Network = n.Name
			ep.Aliases, ep.IP = opts.Aliases, opts.IP
			if err := checkStaticIP(n, opts.IP); err != nil {
				return "", err
			}
		}
		c.Net.Networks = []Endpoint{ep}
	}
	p := filepath.Join(e.cfg.RunRoot, "netns", c.ID)
	if err := netns.New(p); err != nil {
		return "", err
	}
	undo.push(func() { netns.Remove(p) })
	c.NetNS = p
	return p, nil
}

// networkFor is the record of the network a --network value names.
func (e *Engine) networkFor(mode string) (network.Network, error) {
	if isDefaultNetwork(mode) {
		return e.defaultNetwork()
	}
	var n network.Network
	err := e.db.View(func(tx *store.Tx) (err error) {
		n, err = lookupNetwork(tx, mode)
		return err
	})
	return n, err
}

// checkNetworkFlags checks the flags' syntax, whatever the network.
func checkNetworkFlags(o NetworkOptions) error {
	for _, d := range o.DNS {
		if _, err := netip.ParseAddr(d); err != nil {
			return fmt.Errorf("--dns %q: not an IP address: %w", d, errdefs.ErrInvalidArgument)
		}
	}
	for _, h := range o.AddHosts {
		if _, err := parseAddHost(h); err != nil {
			return err
		}
	}
	if o.MAC != "" {
		if hw, err := net.ParseMAC(o.MAC); err != nil || len(hw) != 6 || hw[0]&1 != 0 {
			return fmt.Errorf("--mac-address %q: want a unicast Ethernet address (02:42:ac:11:00:02): %w", o.MAC, errdefs.ErrInvalidArgument)
		}
	}
	for _, a := range o.Aliases {
		if a == "" || strings.ContainsAny(a, " \t\n#") {
			return fmt.Errorf("--network-alias %q: want a host name: %w", a, errdefs.ErrInvalidArgument)
		}
	}
	return nil
}

// checkStaticIP checks --ip against the network (the plugins check again
// that it is free).
func checkStaticIP(n network.Network, ip string) error {
	if ip == "" {
		return nil
	}
	a, err := netip.ParseAddr(ip)
	if err != nil || !a.Is4() {
		return fmt.Errorf("--ip %q: want an IPv4 address: %w", ip, errdefs.ErrInvalidArgument)
	}
	rng := n.Subnet
	if n.IPRange.IsValid() {
		rng = n.IPRange
	}
	if !rng.Contains(a) || a == n.Gateway {
		return fmt.Errorf("--ip %s: not in network %s's range %s (gateway %s): %w", ip, n.Name, rng, n.Gateway, errdefs.ErrInvalidArgument)
	}
	return nil
}

// addHost is one --add-host, parsed.
type addHost struct {
	Name        string
	IP          netip.Addr
	HostGateway bool // "host-gateway": the gateway of the container's first network
}

// parseAddHost reads --add-host HOST:IP (or HOST=IP, docker 25's form).
func parseAddHost(s string) (addHost, error) {
	name, ip, ok := strings.Cut(s, "=")
	if !ok {
		name, ip, ok = strings.Cut(s, ":")
	}
	bad := func(why string) (addHost, error) {
		return addHost{}, fmt.Errorf("--add-host %q: %s (want HOST:IP): %w", s, why, errdefs.ErrInvalidArgument)
	}
	if !ok || name == "" || strings.ContainsAny(name, " \t\n#") {
		return bad("no host name")
	}
	if ip == "host-gateway" {
		return addHost{Name: name, HostGateway: true}, nil
	}
	a, err := netip.ParseAddr(strings.Trim(ip, "[]"))
	if err != nil {
		return bad("not an IP address")
	}
	return addHost{Name: name, IP: a}, nil
}

// connectedTo reports whether c's record names network name.
func (c Container) connectedTo(name string) bool {
	return slices.ContainsFunc(c.Net.Networks, func(ep Endpoint) bool { return ep.Name == name })
}

// networksExist checks, in the transaction that records c, that its
// networks were not removed since containerNetwork found them.
func networksExist(tx *store.Tx, c Container) error {
	for _, ep := range c.Net.Networks {
		n, err := store.Get[network.Network](tx, store.Networks, ep.Name)
		if errdefs.IsNotFound(err) || err == nil && n.ID != ep.ID {
			return fmt.Errorf("network %s not found (removed meanwhile): %w", ep.Name, errdefs.ErrNotFound)
		}
		if err != nil {
			return err
		}
	}
	return nil
}
