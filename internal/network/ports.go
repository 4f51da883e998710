package network

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"syscall"

	"github.com/berth-project/berth/internal/errdefs"
)

// PortMapping is one published port: HostIP:HostPort on the host to
// ContainerPort in the container, for one protocol ("tcp", "udp" or
// "sctp"). An empty HostIP means every host address (127.0.0.1 included).
type PortMapping struct {
	HostIP        string `json:"hostIP,omitempty"`
	HostPort      uint16 `json:"hostPort"`
	ContainerPort uint16 `json:"containerPort"`
	Protocol      string `json:"protocol"`
}

func (p PortMapping) String() string {
	return fmt.Sprintf("%s/%s", net.JoinHostPort(p.HostIP, strconv.Itoa(int(p.HostPort))), p.Protocol)
}

// PortRange is an inclusive range of ports; {0, 0} means "any free port".
type PortRange struct{ Start, End uint16 }

func (r PortRange) len() int { return int(r.End) - int(r.Start) + 1 }

// PublishSpec is one -p flag, parsed, before host ports are chosen.
type PublishSpec struct {
	HostIP         string
	HostPorts      PortRange // {0,0}: a free port for each container port
	ContainerPorts PortRange
	Protocol       string
}

// ParsePublish parses docker's -p syntax:
//
//	[hostIP:][hostPort[-end]:]containerPort[-end][/tcp|/udp|/sctp]
//
// with the host IP in brackets when it is IPv6 ("[::1]:8080:80") and
// "hostIP::containerPort" for a free port on one address. A host range
// must be as long as the container range, or the container side a single
// port (one free port of the host range is taken, as docker does).
func ParsePublish(s string) (PublishSpec, error) {
	bad := func(why string) (PublishSpec, error) {
		return PublishSpec{}, fmt.Errorf("publish %q: %s: %w", s, why, errdefs.ErrInvalidArgument)
	}
	spec := PublishSpec{Protocol: "tcp"}
	rest := s
	if i := strings.LastIndexByte(rest, '/'); i >= 0 {
		spec.Protocol = strings.ToLower(rest[i+1:])
		rest = rest[:i]
		if spec.Protocol != "tcp" && spec.Protocol != "udp" && spec.Protocol != "sctp" {
			return bad("protocol must be tcp, udp or sctp")
		}
	}
	var hostPart, ctrPart string
	if strings.HasPrefix(rest, "[") {
		end := strings.Index(rest, "]:")
		if end < 0 {
			return bad("an IPv6 host address needs [addr]:hostPort:containerPort")
		}
		spec.HostIP = rest[1:end]
		parts := strings.Split(rest[end+2:], ":")
		if len(parts) != 2 {
			return bad("expected [addr]:hostPort:containerPort")
		}
		hostPart, ctrPart = parts[0], parts[1]
	} else {
		parts := strings.Split(rest, ":")
		switch len(parts) {
		case 1:
			ctrPart = parts[0]
		case 2:
			hostPart, ctrPart = parts[0], parts[1]
		case 3:
			spec.HostIP, hostPart, ctrPart = parts[0], parts[1], parts[2]
		default:
			return bad("too many colons (put an IPv6 address in brackets)")
		}
	}
	if spec.HostIP != "" {
		a, err := netip.ParseAddr(spec.HostIP)
		if err != nil || a.Zone() != "" {
			return bad("host address " + strconv.Quote(spec.HostIP) + " is not an IP address")
		}
		spec.HostIP = a.String()
	}
	var err error
	if spec.ContainerPorts, err = parseRange(ctrPart); err != nil || spec.ContainerPorts.Start == 0 {
		return bad("container port " + strconv.Quote(ctrPart) + " is not a port or range of ports (1-65535)")
	}
	if hostPart != "" {
		if spec.HostPorts, err = parseRange(hostPart); err != nil || spec.HostPorts.Start == 0 {
			return bad("host port " + strconv.Quote(hostPart) + " is not a port or range of ports (1-65535)")
		}
		if spec.ContainerPorts.len() != 1 && spec.HostPorts.len() != spec.ContainerPorts.len() {
			return bad("the host and container port ranges differ in length")
		}
	}
	return spec, nil
}

func parseRange(s string) (PortRange, error) {
	lo, hi, isRange := strings.Cut(s, "-")
	a, err := strconv.ParseUint(lo, 10, 16)
	if err != nil {
		return PortRange{}, err
	}
	b := a
	if isRange {
		if b, err = strconv.ParseUint(hi, 10, 16); err != nil {
			return PortRange{}, err
		}
	}
	if b < a {
		return PortRange{}, errors.New("range ends before it starts")
	}
	return PortRange{uint16(a), uint16(b)}, nil
}

// Resolve turns parsed -p flags into port mappings: host ports fixed by the
// flags are checked free (CheckHostPorts), a missing host port gets a free
// one from the kernel (bound to port 0), and a host range for one container
// port gets the first free port of the range. Nothing stays bound.
func Resolve(specs []PublishSpec) ([]PortMapping, error) {
	var out []PortMapping
	for _, sp := range specs {
		switch {
		case sp.HostPorts.Start == 0:
			for p := int(sp.ContainerPorts.Start); p <= int(sp.ContainerPorts.End); p++ {
				hp, err := freePort(sp.HostIP, sp.Protocol)
				if err != nil {
					return nil, err
				}
				out = append(out, PortMapping{sp.HostIP, hp, uint16(p), sp.Protocol})
			}
		case sp.ContainerPorts.len() == 1 && sp.HostPorts.len() > 1:
			m := PortMapping{HostIP: sp.HostIP, ContainerPort: sp.ContainerPorts.Start, Protocol: sp.Protocol}
			for p := int(sp.HostPorts.Start); p <= int(sp.HostPorts.End); p++ {
				m.HostPort = uint16(p)
				if CheckHostPorts([]PortMapping{m}) == nil {
					break
				}
				m.HostPort = 0
			}
			if m.HostPort == 0 {
				return nil, fmt.Errorf("publish %s-%d: no free host port in the range: %w", net.JoinHostPort(sp.HostIP, strconv.Itoa(int(sp.HostPorts.Start))), sp.HostPorts.End, errdefs.ErrAlreadyExists)
			}
			out = append(out, m)
		default:
			for i := 0; i < sp.ContainerPorts.len(); i++ {
				out = append(out, PortMapping{sp.HostIP, sp.HostPorts.Start + uint16(i), sp.ContainerPorts.Start + uint16(i), sp.Protocol})
			}
		}
	}
	if err := CheckHostPorts(out); err != nil {
		return nil, err
	}
	return out, nil
}

// PublishAll is -P: each exposed port of the image ("80/tcp", "53/udp",
// "8080") gets a free host port on hostIP ("" for every address).
func PublishAll(exposed []string, hostIP string) ([]PortMapping, error) {
	var specs []PublishSpec
	for _, e := range exposed {
		sp, err := ParsePublish(e)
		if err != nil || sp.HostIP != "" || sp.HostPorts.Start != 0 {
			return nil, fmt.Errorf("exposed port %q: expected port[-end][/protocol]: %w", e, errdefs.ErrInvalidArgument)
		}
		sp.HostIP = hostIP
		specs = append(specs, sp)
	}
	return Resolve(specs)
}

// CheckHostPorts fails, naming the port, when a host port of ms is taken:
// twice in ms, or by a socket on the host (the port is bound on its address
// for a moment and released). Ports published by other containers through
// DNAT hold no socket: the engine compares with their mappings itself
// (Conflicts).
func CheckHostPorts(ms []PortMapping) error {
	if err := Conflicts(ms, nil); err != nil {
		return err
	}
	for _, m := range ms {
		if m.HostPort == 0 {
			return fmt.Errorf("publish %s: host port 0: %w", m, errdefs.ErrInvalidArgument)
		}
		if err := tryBind(m.HostIP, m.HostPort, m.Protocol); err != nil {
			if errors.Is(err, syscall.EADDRINUSE) {
				return fmt.Errorf("publish %s: host port is already in use: %w", m, errdefs.ErrAlreadyExists)
			}
			return fmt.Errorf("publish %s: %w: %w", m, err, errdefs.ErrInvalidArgument)
		}
	}
	return nil
}

// Conflicts fails when a mapping of ms takes a host port that another
// mapping of ms or of others (the other containers' mappings) takes too:
// same protocol and port, and the same host address or either on every
// address.
func Conflicts(ms, others []PortMapping) error {
	all := append(append([]PortMapping(nil), others...), ms...)
	for i := len(others); i < len(all); i++ {
		for j := 0; j < i; j++ {
			a, b := all[i], all[j]
			if a.HostPort == b.HostPort && a.Protocol == b.Protocol && (a.HostIP == b.HostIP || a.HostIP == "" || b.HostIP == "") {
				return fmt.Errorf("publish %s: host port is already published (%s): %w", a, b, errdefs.ErrAlreadyExists)
			}
		}
	}
	return nil
}

// tryBind binds ip:port for the protocol and releases it at once.
func tryBind(ip string, port uint16, proto string) error {
	addr := net.JoinHostPort(ip, strconv.Itoa(int(port)))
	switch proto {
	case "udp":
		c, err := net.ListenPacket("udp", addr)
		if err != nil {
			return err
		}
		return c.Close()
	case "tcp":
		l, err := net.Listen("tcp", addr)
		if err != nil {
			return err
		}
		return l.Close()
	default: // sctp: no socket check in Go's net; DNAT rules only
		return nil
	}
}

// freePort asks the kernel for a free port on ip for the protocol.
func freePort(ip, proto string) (uint16, error) {
	addr := net.JoinHostPort(ip, "0")
	if proto == "udp" {
		c, err := net.ListenPacket("udp", addr)
		if err != nil {
			return 0, fmt.Errorf("choose a free udp port on %q: %w", ip, err)
		}
		defer c.Close()
		return uint16(c.LocalAddr().(*net.UDPAddr).Port), nil
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return 0, fmt.Errorf("choose a free %s port on %q: %w", proto, ip, err)
	}
	defer l.Close()
	return uint16(l.Addr().(*net.TCPAddr).Port), nil
}
