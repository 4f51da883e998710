package network

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sort"
	"strings"

	"github.com/containernetworking/cni/libcni"
	current "github.com/containernetworking/cni/pkg/types/100"
	"github.com/vishvananda/netlink"
)

// Leftovers is what crashed containers left on the networks: found by
// FindLeftovers, removed by RemoveLeftovers (Reconcile does both under one
// lock). "Live" means every container that still exists — created,
// running or stopped but not removed — since a stopped container may keep
// its attachment until cleanup.
type Leftovers struct {
	// Attachments cached by libcni for containers not alive: each gets a
	// full CNI DEL with its cached configuration (Detach's path).
	Attachments []Attachment
	// Leases of host-local held by containers not alive.
	Leases []Lease
	// Chains of the nat table that the bridge (masquerade, CNI-<hash>) and
	// portmap (CNI-DN-<hash>) plugins made for containers not alive,
	// recognised by the comment on their rules: name: "<network>" id: "<container>".
	Chains []string
	// ForwardRules: addresses in the firewall plugin's CNI-FORWARD chain,
	// inside a network's subnet, that no live container holds.
	ForwardRules []netip.Addr
	// Veths on a network's bridge that no live container's attachment names.
	Veths []string
}

// Attachment is one attachment in the CNI cache.
type Attachment struct {
	Network     string
	ContainerID string
	IfName      string
	NetNS       string
}

// Empty reports whether nothing was found.
func (l Leftovers) Empty() bool {
	return len(l.Attachments)+len(l.Leases)+len(l.Chains)+len(l.ForwardRules)+len(l.Veths) == 0
}

func (l Leftovers) String() string {
	var parts []string
	for _, a := range l.Attachments {
		parts = append(parts, fmt.Sprintf("attachment %s/%s/%s", a.Network, a.ContainerID, a.IfName))
	}
	for _, x := range l.Leases {
		parts = append(parts, fmt.Sprintf("lease %s/%s (%s)", x.Network, x.IP, x.ContainerID))
	}
	for _, c := range l.Chains {
		parts = append(parts, "nat chain "+c)
	}
	for _, a := range l.ForwardRules {
		parts = append(parts, "CNI-FORWARD rules of "+a.String())
	}
	for _, v := range l.Veths {
		parts = append(parts, "veth "+v)
	}
	return strings.Join(parts, ", ")
}

// FindLeftovers lists what the networks nets hold for containers that are
// not in live.
func (m *Manager) FindLeftovers(ctx context.Context, nets []Network, live map[string]bool) (Leftovers, error) {
	unlock, err := m.lock(true)
	if err != nil {
		return Leftovers{}, err
	}
	defer unlock()
	return m.findLeftovers(nets, live)
}

// RemoveLeftovers removes what FindLeftovers found: the attachments first
// (CNI DEL), then whatever of the rest is still there.
func (m *Manager) RemoveLeftovers(ctx context.Context, nets []Network, l Leftovers) error {
	unlock, err := m.lock(true)
	if err != nil {
		return err
	}
	defer unlock()
	return m.removeLeftovers(ctx, nets, l)
}

// Reconcile finds and removes the leftovers of containers not in live, and
// returns what it removed. Run it when berth starts (or on `system prune`).
func (m *Manager) Reconcile(ctx context.Context, nets []Network, live map[string]bool) (Leftovers, error) {
	unlock, err := m.lock(true)
	if err != nil {
		return Leftovers{}, err
	}
	defer unlock()
	l, err := m.findLeftovers(nets, live)
	if err != nil {
		return Leftovers{}, err
	}
	return l, m.removeLeftovers(ctx, nets, l)
}

func (m *Manager) findLeftovers(nets []Network, live map[string]bool) (Leftovers, error) {
	var l Leftovers
	byName := map[string]Network{}
	for _, n := range nets {
		byName[n.Name] = n
	}

	// Attachments, and the host veths of the live ones.
	cached, err := m.cni.GetCachedAttachments("")
	if err != nil {
		return l, fmt.Errorf("cni cache: %w", err)
	}
	liveVeths := map[string]bool{}
	for _, a := range cached {
		if _, ours := byName[a.Network]; !ours {
			continue
		}
		if !live[a.ContainerID] {
			l.Attachments = append(l.Attachments, Attachment{a.Network, a.ContainerID, a.IfName, a.NetNS})
			continue
		}
		list := &libcni.NetworkConfigList{Name: a.Network, CNIVersion: CNIVersion}
		r, err := m.cni.GetNetworkListCachedResult(list, &libcni.RuntimeConf{ContainerID: a.ContainerID, IfName: a.IfName})
		if err != nil || r == nil {
			continue
		}
		if res, err := current.NewResultFromResult(r); err == nil {
			for _, itf := range res.Interfaces {
				if itf.Sandbox == "" {
					liveVeths[itf.Name] = true
				}
			}
		}
	}

	// Leases, and the addresses live containers hold.
	liveAddrs := map[netip.Addr]bool{}
	for _, n := range nets {
		leases, err := m.Leases(n.Name)
		if err != nil {
			return l, err
		}
		for _, x := range leases {
			if live[x.ContainerID] {
				liveAddrs[x.IP] = true
			} else {
				l.Leases = append(l.Leases, x)
			}
		}
	}

	// nat chains named for dead containers.
	rules, _, err := saveTable("nat")
	if err != nil {
		return l, err
	}
	seen := map[string]bool{}
	for _, r := range rules {
		network, id, ok := ruleOwner(r)
		if _, ours := byName[network]; !ok || !ours || live[id] {
			continue
		}
		// The masquerade chain's rules carry the comment; the DNAT chain's
		// jump in CNI-HOSTPORT-DNAT does.
		for _, chain := range []string{ruleChain(r), ruleTarget(r)} {
			if ownChain(chain) && !seen[chain] {
				seen[chain] = true
				l.Chains = append(l.Chains, chain)
			}
		}
	}
	sort.Strings(l.Chains)

	// CNI-FORWARD rules of addresses nobody live holds.
	frules, _, err := saveTable("filter")
	if err != nil {
		return l, err
	}
	fseen := map[netip.Addr]bool{}
	for _, r := range frules {
		mm := forwardRule.FindStringSubmatch(r)
		if mm == nil {
			continue
		}
		a, err := netip.ParseAddr(mm[1])
		if err != nil || liveAddrs[a] || fseen[a] || !inAny(nets, a) {
			continue
		}
		fseen[a] = true
		l.ForwardRules = append(l.ForwardRules, a)
	}

	// Veths on the bridges that no live attachment names.
	links, err := netlink.LinkList()
	if err != nil {
		return l, fmt.Errorf("list interfaces: %w", err)
	}
	bridges := map[int]bool{}
	for _, ln := range links {
		for _, n := range nets {
			if ln.Attrs().Name == n.Bridge {
				bridges[ln.Attrs().Index] = true
			}
		}
	}
	for _, ln := range links {
		if ln.Type() == "veth" && bridges[ln.Attrs().MasterIndex] && !liveVeths[ln.Attrs().Name] {
			l.Veths = append(l.Veths, ln.Attrs().Name)
		}
	}
	return l, nil
}

func (m *Manager) removeLeftovers(ctx context.Context, nets []Network, l Leftovers) error {
	var errs []error
	bridgeOf := map[string]string{}
	for _, n := range nets {
		bridgeOf[n.Name] = n.Bridge
	}
	cached, _ := m.cni.GetCachedAttachments("")
	for _, a := range l.Attachments {
		for _, c := range cached {
			if c.Network != a.Network || c.ContainerID != a.ContainerID || c.IfName != a.IfName {
				continue
			}
			list, err := libcni.NetworkConfFromBytes(c.Config)
			if err != nil {
				errs = append(errs, fmt.Errorf("attachment %s/%s: cached configuration: %w", a.Network, a.ContainerID, err))
				continue
			}
			rt := &libcni.RuntimeConf{ContainerID: c.ContainerID, IfName: c.IfName, NetNS: c.NetNS, Args: c.CniArgs, CapabilityArgs: c.CapabilityArgs}
			if !isNetns(rt.NetNS) {
				rt.NetNS = ""
			}
			if err := m.detach(ctx, bridgeOf[a.Network], list, rt); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if err := m.releaseLeases(l.Leases); err != nil {
		errs = append(errs, err)
	}
	chains := map[string]bool{}
	for _, c := range l.Chains {
		chains[c] = true
	}
	if err := removeChains("nat", chains); err != nil {
		errs = append(errs, err)
	}
	var addrs []string
	for _, a := range l.ForwardRules {
		addrs = append(addrs, a.String())
	}
	if err := removeForwardRules(addrs); err != nil {
		errs = append(errs, err)
	}
	for _, v := range l.Veths {
		if err := deleteLink(v); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// ownChain reports whether a nat chain is one the plugins make per
// container (not one of portmap's shared CNI-HOSTPORT-… chains).
func ownChain(chain string) bool {
	return strings.HasPrefix(chain, "CNI-") && !strings.HasPrefix(chain, "CNI-HOSTPORT-")
}

// inAny reports whether a is inside one of the networks' subnets.
func inAny(nets []Network, a netip.Addr) bool {
	for _, n := range nets {
		if n.Subnet.Contains(a) {
			return true
		}
	}
	return false
}
