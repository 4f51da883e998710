package network

import (
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"strings"
)

// HostEntry is one line of /etc/hosts: an address and its names.
type HostEntry struct {
	IP    netip.Addr
	Names []string
}

// Hosts is what a container's /etc/hosts says beyond localhost.
type Hosts struct {
	// Self: the container's own addresses, each with its hostname and, on
	// user networks, its name and aliases there.
	Self []HostEntry
	// Extra: --add-host entries, in the order given.
	Extra []HostEntry
	// Peers: the other containers on the container's user networks (name,
	// aliases, address on the shared network). The default network gives
	// none, as docker's default bridge.
	Peers []HostEntry
}

// RenderHosts renders /etc/hosts: localhost and the IPv6 names docker
// writes, then Extra, Self and Peers in that order (a resolver takes the
// first match, so --add-host wins over a peer of the same name). Names
// already given by an earlier line are left out of later ones; a line left
// without names is dropped.
//
//	RenderHosts(Hosts{
//		Self:  []HostEntry{{IP: netip.MustParseAddr("10.89.0.2"), Names: []string{"c1", "web"}}},
//		Peers: []HostEntry{{IP: netip.MustParseAddr("10.89.0.3"), Names: []string{"db"}}},
//	})
//	// 127.0.0.1	localhost
//	// ::1	localhost ip6-localhost ip6-loopback
//	// …
//	// 10.89.0.2	c1 web
//	// 10.89.0.3	db
func RenderHosts(h Hosts) []byte {
	var b bytes.Buffer
	b.WriteString("127.0.0.1\tlocalhost\n")
	b.WriteString("::1\tlocalhost ip6-localhost ip6-loopback\n")
	b.WriteString("fe00::0\tip6-localnet\n")
	b.WriteString("ff00::0\tip6-mcastprefix\n")
	b.WriteString("ff02::1\tip6-allnodes\n")
	b.WriteString("ff02::2\tip6-allrouters\n")
	seen := map[string]bool{}
	for _, group := range [][]HostEntry{h.Extra, h.Self, h.Peers} {
		for _, e := range group {
			if !e.IP.IsValid() {
				continue
			}
			var names []string
			for _, n := range e.Names {
				if n == "" || strings.ContainsAny(n, " \t\n#") || seen[n] {
					continue
				}
				seen[n] = true
				names = append(names, n)
			}
			if len(names) > 0 {
				fmt.Fprintf(&b, "%s\t%s\n", e.IP, strings.Join(names, " "))
			}
		}
	}
	return b.Bytes()
}

// WriteHosts replaces the content of a hosts file in place: the file is
// bind-mounted into the container, and a rename would leave the container
// with the old inode. A reader may see the file half written, as with
// docker's; the file is small and written in one call.
func WriteHosts(path string, content []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("hosts file %s: %w", path, err)
	}
	if _, err := f.Write(content); err != nil {
		f.Close()
		return fmt.Errorf("hosts file %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("hosts file %s: %w", path, err)
	}
	return nil
}
