package engine

import (
	"context"
	"net"
	"strconv"
)

// PortBinding is one published port of a container: traffic to
// HostIP:HostPort reaches PrivatePort/Protocol in the container.
type PortBinding struct {
	PrivatePort uint16 `json:"PrivatePort"`
	Protocol    string `json:"Type"` // tcp, udp, sctp
	HostIP      string `json:"IP"`
	HostPort    uint16 `json:"PublicPort"`
}

// HostAddr is the host's side as docker's port prints it ("0.0.0.0:8080",
// "[::]:8080").
func (p PortBinding) HostAddr() string {
	ip := p.HostIP
	if ip == "" {
		ip = "0.0.0.0"
	}
	return net.JoinHostPort(ip, strconv.Itoa(int(p.HostPort)))
}

// Ports returns the published ports of the container the user's word s
// names, with the host ports chosen at its start: none while it does not
// run (host ports are chosen anew at each start).
func (e *Engine) Ports(ctx context.Context, s string) ([]PortBinding, error) {
	c, err := e.container(s)
	if err != nil {
		return nil, err
	}
	if !e.State(ctx, c).Running {
		return nil, nil // its exit command may not have detached it yet
	}
	return e.ContainerPorts(c), nil
}
