package network

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/cni/pkg/types"
	current "github.com/containernetworking/cni/pkg/types/100"
	"github.com/containernetworking/cni/pkg/utils"

	"github.com/berth-project/berth/internal/errdefs"
)

// Options are what a container asks of one network beyond an address.
type Options struct {
	PortMappings []PortMapping // resolved (Resolve, PublishAll): host ports fixed
	IP           netip.Addr    // --ip: a static address inside the range
	MAC          string        // --mac-address
	Aliases      []string      // --network-alias: for the peers' hosts files
}

// Result is what an attachment gave the container.
type Result struct {
	Network       string
	Interface     string         // inside the container ("eth0")
	HostInterface string         // the host end of the veth pair
	Bridge        string         // the bridge it is enslaved to
	IPs           []netip.Prefix // the container's addresses, with the subnet's length
	Gateway       netip.Addr
	MAC           string
	PortMappings  []PortMapping
	Aliases       []string
}

// Attach connects the network namespace at netnsPath to n: a veth pair with
// ifName inside, an address from the network's range (or opts.IP), a
// default route unless the network is internal, masquerade, and the port
// mappings. Before anything is made it checks that the plugins are
// installed (errdefs.ErrNotFound naming the missing one) and that the host
// ports are free (errdefs.ErrAlreadyExists naming the port); if a plugin
// fails, the whole attachment is deleted again (CNI DEL) and nothing is
// left. An exhausted range is errdefs.ErrUnavailable, a static address
// taken errdefs.ErrAlreadyExists.
func (m *Manager) Attach(ctx context.Context, n Network, containerID, netnsPath, ifName string, opts Options) (Result, error) {
	if err := checkIDs(containerID, ifName); err != nil {
		return Result{}, err
	}
	caps, err := capabilityArgs(n, opts)
	if err != nil {
		return Result{}, err
	}
	list, err := m.attachList(n, len(opts.PortMappings) > 0)
	if err != nil {
		return Result{}, err
	}
	if err := m.FindPlugins(); err != nil {
		return Result{}, err
	}
	if err := CheckHostPorts(opts.PortMappings); err != nil {
		return Result{}, err
	}
	unlock, err := m.lock(false)
	if err != nil {
		return Result{}, err
	}
	defer unlock()

	rt := &libcni.RuntimeConf{ContainerID: containerID, NetNS: netnsPath, IfName: ifName, CapabilityArgs: caps}
	res, err := m.cni.AddNetworkList(ctx, list, rt)
	if err != nil {
		addErr := classify(n, containerID, err)
		if derr := m.detach(context.WithoutCancel(ctx), n.Bridge, list, rt); derr != nil {
			return Result{}, fmt.Errorf("%w (and undoing it: %v)", addErr, derr)
		}
		return Result{}, addErr
	}
	out, err := parseResult(n, ifName, res)
	if err != nil {
		_ = m.detach(context.WithoutCancel(ctx), n.Bridge, list, rt)
		return Result{}, err
	}
	out.PortMappings = append([]PortMapping(nil), opts.PortMappings...)
	out.Aliases = append([]string(nil), opts.Aliases...)
	return out, nil
}

// Check asks the plugins whether an attachment is still as they made it
// (CNI CHECK: the interface, its address and routes, the iptables rules).
func (m *Manager) Check(ctx context.Context, n Network, containerID, netnsPath, ifName string) error {
	if err := checkIDs(containerID, ifName); err != nil {
		return err
	}
	unlock, err := m.lock(false)
	if err != nil {
		return err
	}
	defer unlock()
	list, rt, err := m.cachedList(n, containerID, netnsPath, ifName)
	if err != nil {
		return err
	}
	if err := m.cni.CheckNetworkList(ctx, list, rt); err != nil {
		return fmt.Errorf("network %q: container %s: check: %w", n.Name, containerID, err)
	}
	return nil
}

// configList is n's configuration list as libcni takes it.
func (m *Manager) configList(n Network) (*libcni.NetworkConfigList, error) {
	return m.attachList(n, true)
}

// attachList is the list an attachment runs: without portmap when it maps
// no port. libcni caches the list with the attachment, so Detach runs DEL
// through the same plugins.
func (m *Manager) attachList(n Network, ports bool) (*libcni.NetworkConfigList, error) {
	b, err := confList(n, m.state, ports)
	if err != nil {
		return nil, err
	}
	list, err := libcni.NetworkConfFromBytes(b)
	if err != nil {
		return nil, fmt.Errorf("network %q: cni configuration: %w", n.Name, err)
	}
	return list, nil
}

// checkIDs checks what libcni would refuse, before anything is made.
func checkIDs(containerID, ifName string) error {
	if err := utils.ValidateContainerID(containerID); err != nil {
		return fmt.Errorf("container id %q: %v: %w", containerID, err, errdefs.ErrInvalidArgument)
	}
	if err := utils.ValidateInterfaceName(ifName); err != nil {
		return fmt.Errorf("interface name %q: %v: %w", ifName, err, errdefs.ErrInvalidArgument)
	}
	return nil
}

// capabilityArgs turns Options into the runtimeConfig the plugins take:
// "portMappings" (portmap), "ips" (host-local), "mac" (bridge).
func capabilityArgs(n Network, opts Options) (map[string]any, error) {
	caps := map[string]any{}
	if len(opts.PortMappings) > 0 {
		var pms []map[string]any
		for _, p := range opts.PortMappings {
			if p.HostPort == 0 || p.ContainerPort == 0 || (p.Protocol != "tcp" && p.Protocol != "udp" && p.Protocol != "sctp") {
				return nil, fmt.Errorf("network %q: port mapping %s → %d: ports 1-65535 and tcp, udp or sctp: %w", n.Name, p, p.ContainerPort, errdefs.ErrInvalidArgument)
			}
			if p.HostIP != "" {
				a, err := netip.ParseAddr(p.HostIP)
				if err != nil || !a.Is4() {
					return nil, fmt.Errorf("network %q: port mapping %s: host address must be IPv4 (the networks are IPv4): %w", n.Name, p, errdefs.ErrInvalidArgument)
				}
			}
			pms = append(pms, map[string]any{"hostPort": p.HostPort, "containerPort": p.ContainerPort, "protocol": p.Protocol, "hostIP": p.HostIP})
		}
		caps["portMappings"] = pms
	}
	if opts.IP.IsValid() {
		first, last := allocRange(n)
		if !opts.IP.Is4() || !usable(n.Subnet, opts.IP) || opts.IP == n.Gateway || opts.IP.Less(first) || last.Less(opts.IP) {
			return nil, fmt.Errorf("network %q: ip %s: not a free host address of %s-%s (the gateway is %s): %w", n.Name, opts.IP, first, last, n.Gateway, errdefs.ErrInvalidArgument)
		}
		caps["ips"] = []string{netip.PrefixFrom(opts.IP, n.Subnet.Bits()).String()}
	}
	if opts.MAC != "" {
		hw, err := net.ParseMAC(opts.MAC)
		if err != nil || len(hw) != 6 || hw[0]&1 != 0 {
			return nil, fmt.Errorf("network %q: mac address %q: a unicast Ethernet address: %w", n.Name, opts.MAC, errdefs.ErrInvalidArgument)
		}
		caps["mac"] = hw.String()
	}
	return caps, nil
}

// classify wraps a plugin's failure with the class the caller can act on.
// The plugins speak in messages only (code 999), so the known ones are
// recognised by their words (host-local's, libcni's).
func classify(n Network, containerID string, err error) error {
	msg := err.Error()
	what, class := "", errdefs.ErrFailedPrecondition
	switch {
	case strings.Contains(msg, "no IP addresses available"):
		what, class = "the ip range is exhausted: ", errdefs.ErrUnavailable
	case strings.Contains(msg, "requested IP address"):
		what, class = "the address is taken: ", errdefs.ErrAlreadyExists
	case strings.Contains(msg, "failed to find plugin"):
		class = errdefs.ErrNotFound
	}
	var te *types.Error
	if errors.As(err, &te) && te.Code == types.ErrInvalidNetNS {
		class = errdefs.ErrInvalidArgument
	}
	return fmt.Errorf("network %q: container %s: %s%v: %w", n.Name, containerID, what, err, class)
}

// parseResult reads the chain's result: the bridge, the host veth, the
// container's interface and its addresses.
func parseResult(n Network, ifName string, r types.Result) (Result, error) {
	res, err := current.NewResultFromResult(r)
	if err != nil {
		return Result{}, fmt.Errorf("network %q: cni result: %w", n.Name, err)
	}
	out := Result{Network: n.Name, Interface: ifName, Bridge: n.Bridge}
	ctr := -1
	for i, itf := range res.Interfaces {
		switch {
		case itf.Sandbox != "" && itf.Name == ifName:
			ctr = i
			out.MAC = itf.Mac
		case itf.Sandbox == "" && itf.Name != n.Bridge:
			out.HostInterface = itf.Name
		}
	}
	for _, ipc := range res.IPs {
		if ipc.Interface != nil && *ipc.Interface != ctr {
			continue
		}
		a, ok := netip.AddrFromSlice(ipc.Address.IP)
		if !ok {
			continue
		}
		ones, _ := ipc.Address.Mask.Size()
		out.IPs = append(out.IPs, netip.PrefixFrom(a.Unmap(), ones))
		if gw, ok := netip.AddrFromSlice(ipc.Gateway); ok && !out.Gateway.IsValid() {
			out.Gateway = gw.Unmap()
		}
	}
	if len(out.IPs) == 0 {
		return Result{}, fmt.Errorf("network %q: the plugins gave %s no address: %w", n.Name, ifName, errdefs.ErrFailedPrecondition)
	}
	return out, nil
}
