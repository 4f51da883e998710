package engine

import (
	"slices"
	"strconv"
	"strings"

	"github.com/berth-project/berth/internal/network"
)

// NetworkSettings is inspect's .NetworkSettings, in docker's field names:
// the top-level address fields describe the first network (docker fills
// them for its default bridge only; podman for the first network).
type NetworkSettings struct {
	SandboxKey  string                          `json:"SandboxKey"`
	Ports       map[string][]HostPortBinding    `json:"Ports"`
	Gateway     string                          `json:"Gateway"`
	IPAddress   string                          `json:"IPAddress"`
	IPPrefixLen int                             `json:"IPPrefixLen"`
	MacAddress  string                          `json:"MacAddress"`
	Networks    map[string]NetworkEndpointState `json:"Networks"`
}

// HostPortBinding is one host side of a published port.
type HostPortBinding struct {
	HostIP   string `json:"HostIp"`
	HostPort string `json:"HostPort"`
}

// NetworkEndpointState is one network of a container in inspect.
type NetworkEndpointState struct {
	IPAMConfig  *EndpointIPAMConfig `json:"IPAMConfig"`
	Aliases     []string            `json:"Aliases"`
	MacAddress  string              `json:"MacAddress"`
	NetworkID   string              `json:"NetworkID"`
	EndpointID  string              `json:"EndpointID"`
	Gateway     string              `json:"Gateway"`
	IPAddress   string              `json:"IPAddress"`
	IPPrefixLen int                 `json:"IPPrefixLen"`
	DNSNames    []string            `json:"DNSNames"`
}

// EndpointIPAMConfig is the static address a container asked for.
type EndpointIPAMConfig struct {
	IPv4Address string `json:"IPv4Address,omitempty"`
}

// NetworkHostConfig is the network part of inspect's .HostConfig.
type NetworkHostConfig struct {
	PortBindings    map[string][]HostPortBinding `json:"PortBindings"`
	PublishAllPorts bool                         `json:"PublishAllPorts"`
	DNS             []string                     `json:"Dns"`
	DNSSearch       []string                     `json:"DnsSearch"`
	DNSOptions      []string                     `json:"DnsOptions"`
	ExtraHosts      []string                     `json:"ExtraHosts"`
}

// networkHostConfig is what c asked of its network, for inspect.
func networkHostConfig(c Container) NetworkHostConfig {
	h := NetworkHostConfig{
		PortBindings: map[string][]HostPortBinding{}, PublishAllPorts: c.Net.PublishAll,
		DNS: nonNil(c.Net.DNS), DNSSearch: nonNil(c.Net.DNSSearch), DNSOptions: nonNil(c.Net.DNSOptions),
		ExtraHosts: nonNil(c.Net.AddHosts),
	}
	for _, sp := range c.Net.Publish {
		n := int(sp.ContainerPorts.End) - int(sp.ContainerPorts.Start)
		for i := 0; i <= n; i++ {
			key := strconv.Itoa(int(sp.ContainerPorts.Start)+i) + "/" + sp.Protocol
			hp := ""
			switch {
			case sp.HostPorts.Start == 0:
			case sp.HostPorts.End-sp.HostPorts.Start == uint16(n):
				hp = strconv.Itoa(int(sp.HostPorts.Start) + i)
			default:
				hp = strconv.Itoa(int(sp.HostPorts.Start)) + "-" + strconv.Itoa(int(sp.HostPorts.End))
			}
			h.PortBindings[key] = append(h.PortBindings[key], HostPortBinding{HostIP: sp.HostIP, HostPort: hp})
		}
	}
	return h
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// networkSettings is c's .NetworkSettings: its attachments while it runs,
// the networks it will join otherwise.
func (e *Engine) networkSettings(c Container, running bool) NetworkSettings {
	ns := NetworkSettings{SandboxKey: c.NetNS, Ports: map[string][]HostPortBinding{}, Networks: map[string]NetworkEndpointState{}}
	for _, p := range c.Config.ExposedPorts {
		if !strings.Contains(p, "-") {
			ns.Ports[p] = nil // docker: exposed, not published
		}
	}
	var st netState
	if running {
		st, _, _ = e.readNetState(c.ID)
	}
	for _, m := range attachedPorts(st) {
		key := strconv.Itoa(int(m.ContainerPort)) + "/" + m.Protocol
		ns.Ports[key] = append(ns.Ports[key], HostPortBinding{HostIP: hostIPText(m.HostIP), HostPort: strconv.Itoa(int(m.HostPort))})
	}
	if r := st.Slirp; r != nil && len(r.Result.IPs) > 0 {
		ns.IPAddress, ns.IPPrefixLen, ns.Gateway = r.Result.IPs[0].Addr().String(), r.Result.IPs[0].Bits(), r.Result.Gateway.String()
	}
	for _, ep := range c.Net.Networks {
		es := NetworkEndpointState{NetworkID: ep.ID, Aliases: nonNil(ep.Aliases), MacAddress: ep.MAC, DNSNames: []string{}}
		if ep.IP != "" {
			es.IPAMConfig = &EndpointIPAMConfig{IPv4Address: ep.IP}
		}
		i := slices.IndexFunc(st.Attachments, func(a netAttachment) bool { return a.Network.ID == ep.ID })
		if i >= 0 && len(st.Attachments[i].Result.IPs) > 0 {
			r := st.Attachments[i].Result
			es.EndpointID = endpointID(c.ID, r.Interface)
			es.IPAddress, es.IPPrefixLen = r.IPs[0].Addr().String(), r.IPs[0].Bits()
			es.Gateway, es.MacAddress = r.Gateway.String(), r.MAC
			if ep.Name != network.DefaultName {
				es.DNSNames = append(append([]string{c.Name}, ep.Aliases...), shortContainerID(c.ID))
			}
			if i == 0 {
				ns.IPAddress, ns.IPPrefixLen, ns.Gateway, ns.MacAddress = es.IPAddress, es.IPPrefixLen, es.Gateway, es.MacAddress
			}
		}
		ns.Networks[ep.Name] = es
	}
	return ns
}

// attachedPorts are the port mappings of st's attachments.
func attachedPorts(st netState) []network.PortMapping {
	var out []network.PortMapping
	for _, a := range st.Attachments {
		out = append(out, a.Result.PortMappings...)
	}
	if st.Slirp != nil {
		out = append(out, st.Slirp.Result.PortMappings...)
	}
	return out
}

// hostIPText is a mapping's host address as docker shows it.
func hostIPText(ip string) string {
	if ip == "" {
		return "0.0.0.0"
	}
	return ip
}

// ContainerPorts are the published ports of c while it is attached (ps's
// PORTS column, for a container that runs: one that stopped a moment ago
// may be attached until its exit command ran).
func (e *Engine) ContainerPorts(c Container) []PortBinding {
	st, _, _ := e.readNetState(c.ID)
	var out []PortBinding
	for _, m := range attachedPorts(st) {
		out = append(out, PortBinding{PrivatePort: m.ContainerPort, Protocol: m.Protocol, HostIP: hostIPText(m.HostIP), HostPort: m.HostPort})
	}
	return out
}

// NetworkNames are the networks of c, or its network mode when it has
// none (ps's NETWORKS column).
func (c Container) NetworkNames() []string {
	if len(c.Net.Networks) == 0 {
		return []string{c.Network}
	}
	var out []string
	for _, ep := range c.Net.Networks {
		out = append(out, ep.Name)
	}
	return out
}
