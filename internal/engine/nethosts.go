package engine

import (
	"bytes"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/berth-project/berth/internal/network"
	"github.com/berth-project/berth/internal/store"
)

// Names on networks: every container's /etc/hosts is the engine's file
// <root>/containers/<id>/hosts, bound into it and rewritten in place
// (network.WriteHosts). At create it holds localhost, the --add-host lines
// and the hostname on 127.0.1.1; at each start the hostname moves to the
// container's address, and on a user network the container's name and
// aliases join it, with one line for each peer on its user networks (name,
// aliases, short ID) — docker's name resolution on user networks, made
// with files instead of an embedded DNS server. The default network gives
// no peers, as docker's default bridge. When a container on a user network
// starts or stops, the hosts files of its peers there are rewritten, under
// the network lock.

// attachedContainer is a container with attachments: its record and its
// network.json.
type attachedContainer struct {
	c  Container
	st netState
}

// attachedContainers lists every container with attachments, by name.
func (e *Engine) attachedContainers() ([]attachedContainer, error) {
	states, err := e.netStates()
	if err != nil || len(states) == 0 {
		return nil, err
	}
	var out []attachedContainer
	err = e.db.View(func(tx *store.Tx) error {
		for id, st := range states {
			c, err := store.Get[Container](tx, store.Containers, id)
			if err != nil {
				continue // removed meanwhile, or a leftover the reconcile takes
			}
			out = append(out, attachedContainer{c: c, st: st})
		}
		return nil
	})
	slices.SortFunc(out, func(a, b attachedContainer) int { return strings.Compare(a.c.Name, b.c.Name) })
	return out, err
}

// hostsFor renders c's /etc/hosts, c attached as st, its peers from all.
func hostsFor(c Container, st netState, all []attachedContainer) []byte {
	var h network.Hosts
	var gateway netip.Addr
	for i, a := range st.Attachments {
		if len(a.Result.IPs) == 0 {
			continue
		}
		var names []string
		if i == 0 {
			names = append(names, c.Config.Hostname)
			gateway = a.Result.Gateway
		}
		if a.Network.Name != network.DefaultName {
			names = append(append(names, c.Name), a.Result.Aliases...)
		}
		h.Self = append(h.Self, network.HostEntry{IP: a.Result.IPs[0].Addr(), Names: names})
	}
	if len(h.Self) == 0 && c.Config.Hostname != "" {
		h.Self = []network.HostEntry{{IP: netip.AddrFrom4([4]byte{127, 0, 1, 1}), Names: []string{c.Config.Hostname}}}
	}
	for _, s := range c.Net.AddHosts {
		ah, err := parseAddHost(s)
		if err != nil {
			continue // checked at create
		}
		if ah.HostGateway {
			ah.IP = gateway // none before the container is attached: the line waits
		}
		h.Extra = append(h.Extra, network.HostEntry{IP: ah.IP, Names: []string{ah.Name}})
	}
	mine := map[string]bool{}
	for _, a := range st.Attachments {
		if a.Network.Name != network.DefaultName {
			mine[a.Network.ID] = true
		}
	}
	for _, p := range all {
		if p.c.ID == c.ID {
			continue
		}
		for _, pa := range p.st.Attachments {
			if !mine[pa.Network.ID] || len(pa.Result.IPs) == 0 {
				continue
			}
			names := append(append([]string{p.c.Name}, pa.Result.Aliases...), shortContainerID(p.c.ID))
			h.Peers = append(h.Peers, network.HostEntry{IP: pa.Result.IPs[0].Addr(), Names: names})
		}
	}
	return network.RenderHosts(h)
}

// hostsPath is the hosts file the engine keeps for container id.
func (e *Engine) hostsPath(id string) string { return filepath.Join(e.containerDir(id), hostsFile) }

// writeHosts rewrites c's hosts file for its attachments st and, with
// peers, those of the containers that share a user network with it. The
// caller holds the network lock when peers is set.
func (e *Engine) writeHosts(c Container, st netState, peers bool) error {
	var all []attachedContainer
	if peers {
		var err error
		if all, err = e.attachedContainers(); err != nil {
			return err
		}
	}
	if err := network.WriteHosts(e.hostsPath(c.ID), hostsFor(c, st, all)); err != nil {
		return err
	}
	if peers {
		return e.rewritePeers(c.ID, st, all)
	}
	return nil
}

// refreshPeers rewrites the hosts files of the containers that shared a
// user network of st with container id, which left it. The caller holds
// the network lock.
func (e *Engine) refreshPeers(id string, st netState) error {
	all, err := e.attachedContainers()
	if err != nil {
		return err
	}
	return e.rewritePeers(id, st, all)
}

// rewritePeers rewrites the hosts file of every container of all but id
// that is on a user network of st.
func (e *Engine) rewritePeers(id string, st netState, all []attachedContainer) error {
	nets := map[string]bool{}
	for _, a := range st.Attachments {
		if a.Network.Name != network.DefaultName {
			nets[a.Network.ID] = true
		}
	}
	for _, p := range all {
		if p.c.ID == id || !slices.ContainsFunc(p.st.Attachments, func(a netAttachment) bool { return nets[a.Network.ID] }) {
			continue
		}
		if err := network.WriteHosts(e.hostsPath(p.c.ID), hostsFor(p.c, p.st, all)); err != nil && !os.IsNotExist(err) {
			return err
		}
	}
	return nil
}

// writeNetworkFiles rewrites, at create, the hosts and resolv.conf that
// writeHostFiles wrote, for the network flags: --add-host lines, and
// --dns, --dns-search and --dns-option in place of the host's.
func (e *Engine) writeNetworkFiles(c Container) error {
	dir := e.containerDir(c.ID)
	n := c.Net
	if c.Network == modeSlirp && len(n.DNS) == 0 {
		// slirp4netns's forwarder, which asks the host's resolvers (those
		// on the host's loopback too, which the container cannot reach).
		n.DNS = []string{network.SlirpDNS.String()}
	}
	if len(n.DNS)+len(n.DNSSearch)+len(n.DNSOptions) > 0 {
		host, _ := os.ReadFile("/etc/resolv.conf")
		if err := os.WriteFile(filepath.Join(dir, resolvConfFile), resolvConf(host, n, c.Network == modeHost), 0o644); err != nil {
			return err
		}
	}
	switch {
	case c.Network == modeHost && len(n.AddHosts) > 0:
		b, _ := os.ReadFile(filepath.Join(dir, hostsFile))
		var lines bytes.Buffer
		lines.Write(b)
		for _, s := range n.AddHosts {
			if ah, err := parseAddHost(s); err == nil && ah.IP.IsValid() {
				lines.WriteString(ah.IP.String() + "\t" + ah.Name + "\n")
			}
		}
		return os.WriteFile(filepath.Join(dir, hostsFile), lines.Bytes(), 0o644)
	case c.Network == modeNone || c.Network == modeSlirp || len(n.Networks) > 0:
		return network.WriteHosts(e.hostsPath(c.ID), hostsFor(c, netState{}, nil))
	}
	return nil
}

// resolvConf renders /etc/resolv.conf from the host's: its nameservers
// (minus those on its loopback, which a network of the container's own
// cannot reach), search domains and options, each replaced by the flags
// when given ("--dns-search ." for no search domain).
func resolvConf(host []byte, n ContainerNet, hostNetwork bool) []byte {
	var out bytes.Buffer
	for _, line := range strings.Split(string(host), "\n") {
		f := strings.Fields(line)
		if len(f) > 0 {
			switch f[0] {
			case "nameserver":
				if len(n.DNS) > 0 {
					continue
				}
				if a, err := netip.ParseAddr(f[len(f)-1]); err == nil && a.IsLoopback() && !hostNetwork {
					continue
				}
			case "search", "domain":
				if len(n.DNSSearch) > 0 {
					continue
				}
			case "options":
				if len(n.DNSOptions) > 0 {
					continue
				}
			}
		}
		if line != "" {
			out.WriteString(line + "\n")
		}
	}
	for _, d := range n.DNS {
		out.WriteString("nameserver " + d + "\n")
	}
	if search := slices.DeleteFunc(slices.Clone(n.DNSSearch), func(s string) bool { return s == "." }); len(search) > 0 {
		out.WriteString("search " + strings.Join(search, " ") + "\n")
	}
	if len(n.DNSOptions) > 0 {
		out.WriteString("options " + strings.Join(n.DNSOptions, " ") + "\n")
	}
	return out.Bytes()
}
