package engine

import (
	"bufio"
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
)

// The files the engine writes for a container and binds into it.
const (
	hostsFile      = "hosts"
	hostnameFile   = "hostname"
	resolvConfFile = "resolv.conf"
)

// defaultHosts is /etc/hosts of a container with a network of its own.
const defaultHosts = `127.0.0.1	localhost
::1	localhost ip6-localhost ip6-loopback
fe00::0	ip6-localnet
ff00::0	ip6-mcastprefix
ff02::1	ip6-allnodes
ff02::2	ip6-allrouters
`

// writeHostFiles writes hosts, hostname and resolv.conf into dir: for the
// host's network, the host's own hosts and resolv.conf; otherwise
// localhost alone, and the host's resolvers minus those on its loopback,
// which a container's own network cannot reach (as docker does).
func writeHostFiles(dir, hostname string, hostNetwork bool) error {
	hosts := []byte(defaultHosts)
	if hostNetwork {
		if b, err := os.ReadFile("/etc/hosts"); err == nil {
			hosts = b
		}
	} else if hostname != "" {
		hosts = append(hosts, fmt.Sprintf("127.0.1.1\t%s\n", hostname)...)
	}
	resolv, _ := os.ReadFile("/etc/resolv.conf")
	if !hostNetwork {
		resolv = withoutLoopbackResolvers(resolv)
	}
	for name, b := range map[string][]byte{hostsFile: hosts, hostnameFile: []byte(hostname + "\n"), resolvConfFile: resolv} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
	}
	return nil
}

// withoutLoopbackResolvers drops "nameserver" lines naming a loopback
// address.
func withoutLoopbackResolvers(b []byte) []byte {
	var out bytes.Buffer
	s := bufio.NewScanner(bytes.NewReader(b))
	for s.Scan() {
		line := s.Text()
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == "nameserver" {
			if a, err := netip.ParseAddr(f[1]); err == nil && a.IsLoopback() {
				continue
			}
		}
		out.WriteString(line + "\n")
	}
	return out.Bytes()
}
