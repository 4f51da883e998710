package network

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"path/filepath"
)

// CNIVersion is the version of the CNI spec the configurations speak.
const CNIVersion = "1.0.0"

// Plugins are the plugin binaries a network's configuration runs, in order.
var Plugins = []string{"bridge", "host-local", "portmap", "firewall"}

// ConfList renders the CNI network configuration list of n: the bridge
// plugin (the network's bridge as gateway, masquerade unless internal,
// hairpin mode so a container reaches its own published ports, host-local
// IPAM with its leases under stateDir/ipam), portmap (port mappings through
// iptables DNAT, with SNAT so that 127.0.0.1 and hairpin work) and firewall
// (iptables; "same-bridge" ingress, so networks cannot reach each other, as
// docker's). It is a pure function.
//
// Capabilities the runtime fills at Attach: "ips" (a static address), "mac",
// "portMappings".
//
// Not in the list: the tuning plugin (a container's sysctls are the OCI
// runtime's to write, inside its namespace, from the spec) — every plugin
// is a process and a cache write at each attach and detach, for nothing.
// Attach also leaves portmap out for a container that publishes no port
// (attachList): its ADD would do nothing and its DEL nothing either.
func ConfList(n Network, stateDir string) ([]byte, error) {
	return confList(n, stateDir, true)
}

// confList is ConfList, with the portmap plugin only if portmap is set.
func confList(n Network, stateDir string, portmap bool) ([]byte, error) {
	if err := n.Validate(); err != nil {
		return nil, err
	}
	first, last := allocRange(n)
	rng := map[string]string{
		"subnet":     n.Subnet.String(),
		"gateway":    n.Gateway.String(),
		"rangeStart": first.String(),
		"rangeEnd":   last.String(),
	}
	ipam := map[string]any{
		"type":    "host-local",
		"dataDir": filepath.Join(stateDir, "ipam"),
		"ranges":  [][]map[string]string{{rng}},
	}
	if !n.Internal {
		ipam["routes"] = []map[string]string{{"dst": "0.0.0.0/0"}}
	}
	plugins := []any{map[string]any{
		"type":         "bridge",
		"bridge":       n.Bridge,
		"isGateway":    true,
		"ipMasq":       !n.Internal,
		"hairpinMode":  true,
		"capabilities": map[string]bool{"ips": true, "mac": true},
		"ipam":         ipam,
	}}
	if portmap {
		plugins = append(plugins, map[string]any{
			"type":         "portmap",
			"backend":      "iptables",
			"snat":         true,
			"capabilities": map[string]bool{"portMappings": true},
		})
	}
	plugins = append(plugins, map[string]any{
		"type":          "firewall",
		"backend":       "iptables",
		"ingressPolicy": "same-bridge",
	})
	list := map[string]any{
		"cniVersion": CNIVersion,
		"name":       n.Name,
		"plugins":    plugins,
	}
	b, err := json.MarshalIndent(list, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("network %q: cni configuration: %w", n.Name, err)
	}
	return append(b, '\n'), nil
}

// allocRange is the first and last address handed out: the range (or the
// subnet) less the subnet's network and broadcast addresses. host-local
// skips the gateway itself.
func allocRange(n Network) (first, last netip.Addr) {
	p := n.Subnet
	if n.IPRange.IsValid() {
		p = n.IPRange
	}
	first, last = p.Masked().Addr(), lastAddr(p)
	if first == n.Subnet.Masked().Addr() {
		first = first.Next()
	}
	if last == lastAddr(n.Subnet) {
		last = last.Prev()
	}
	return first, last
}
