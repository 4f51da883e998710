package network

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/linux/netns"
)

// serveTCP listens on port inside the namespace and answers each
// connection with "<reply>:<first line>" once.
func serveTCP(t *testing.T, path string, port int, reply string) {
	t.Helper()
	var l net.Listener
	inNetns(t, path, func() (err error) {
		l, err = net.Listen("tcp", ":"+strconv.Itoa(port))
		return err
	})
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				line, _ := bufio.NewReader(c).ReadString('\n')
				fmt.Fprintf(c, "%s:%s", reply, line)
			}()
		}
	}()
}

// serveUDP answers each datagram on port inside the namespace.
func serveUDP(t *testing.T, path string, port int, reply string) {
	t.Helper()
	var c net.PacketConn
	inNetns(t, path, func() (err error) {
		c, err = net.ListenPacket("udp", ":"+strconv.Itoa(port))
		return err
	})
	t.Cleanup(func() { c.Close() })
	go func() {
		buf := make([]byte, 512)
		for {
			n, from, err := c.ReadFrom(buf)
			if err != nil {
				return
			}
			c.WriteTo([]byte(reply+":"+string(buf[:n])), from)
		}
	}()
}

// ask dials addr over TCP (from the namespace at path, or the host when
// "") and returns the answer to "hello".
func ask(t *testing.T, path, proto, addr string) (string, error) {
	t.Helper()
	var c net.Conn
	var err error
	dial := func() error {
		c, err = net.DialTimeout(proto, addr, 5*time.Second)
		return nil
	}
	if path == "" {
		dial()
	} else {
		inNetns(t, path, dial)
	}
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, "hello\n"); err != nil {
		return "", err
	}
	buf := make([]byte, 256)
	n, err := c.Read(buf)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(buf[:n])), nil
}

func TestAttachTwoContainersTalk(t *testing.T) {
	rootEnv(t)
	m := newManager(t)
	n := testNet(t, 24)
	cleanNetwork(t, m, n)
	ctx := context.Background()
	a, b := newNetns(t), newNetns(t)

	ra := mustAttach(t, m, n, "ctr-a", a, Options{MAC: "02:42:ac:11:00:0a", Aliases: []string{"alpha"}})
	defer m.Detach(ctx, n, "ctr-a", a, "eth0")
	ip := n.Subnet.Addr().Next().Next().Next().Next().Next() // .5
	rb := mustAttach(t, m, n, "ctr-b", b, Options{IP: ip})
	defer m.Detach(ctx, n, "ctr-b", b, "eth0")

	if len(ra.IPs) != 1 || !n.Subnet.Contains(ra.IPs[0].Addr()) || ra.IPs[0].Bits() != 24 || ra.Gateway != n.Gateway {
		t.Fatalf("result a: %+v", ra)
	}
	if ra.MAC != "02:42:ac:11:00:0a" || ra.Interface != "eth0" || ra.Bridge != n.Bridge || ra.HostInterface == "" || ra.Aliases[0] != "alpha" {
		t.Fatalf("result a: %+v", ra)
	}
	if rb.IPs[0].Addr() != ip {
		t.Fatalf("static ip: got %s, want %s", rb.IPs[0], ip)
	}
	if v := bridgeVeths(t, n.Bridge); len(v) != 2 {
		t.Fatalf("veths on the bridge: %v", v)
	}
	if err := m.Check(ctx, n, "ctr-a", a, "eth0"); err != nil {
		t.Fatalf("check: %v", err)
	}
	// A default route through the gateway.
	inNetns(t, a, func() error {
		routes, err := netlink.RouteList(nil, netlink.FAMILY_V4)
		if err != nil {
			return err
		}
		for _, r := range routes {
			if r.Dst == nil || r.Dst.IP.IsUnspecified() {
				if r.Gw.String() != n.Gateway.String() {
					return fmt.Errorf("default route via %s", r.Gw)
				}
				return nil
			}
		}
		return fmt.Errorf("no default route: %v", routes)
	})

	serveTCP(t, b, 8080, "b")
	serveUDP(t, b, 5353, "b")
	if got, err := ask(t, a, "tcp", net.JoinHostPort(ip.String(), "8080")); err != nil || got != "b:hello" {
		t.Fatalf("a → b tcp: %q, %v", got, err)
	}
	if got, err := ask(t, a, "udp", net.JoinHostPort(ip.String(), "5353")); err != nil || got != "b:hello" {
		t.Fatalf("a → b udp: %q, %v", got, err)
	}
}

func TestPortMapping(t *testing.T) {
	rootEnv(t)
	m := newManager(t)
	n := testNet(t, 24)
	cleanNetwork(t, m, n)
	ctx := context.Background()
	c := newNetns(t)
	serveTCP(t, c, 80, "web")
	serveUDP(t, c, 53, "dns")

	tcp, _ := ParsePublish("80")
	udp, _ := ParsePublish("127.0.0.1::53/udp")
	ports, err := Resolve([]PublishSpec{tcp, udp})
	if err != nil {
		t.Fatal(err)
	}
	mustAttach(t, m, n, "ctr-web", c, Options{PortMappings: ports})
	defer m.Detach(ctx, n, "ctr-web", c, "eth0")

	host := func(p PortMapping) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(int(p.HostPort))) }
	if got, err := ask(t, "", "tcp", host(ports[0])); err != nil || got != "web:hello" {
		t.Fatalf("127.0.0.1:%d/tcp: %q, %v", ports[0].HostPort, got, err)
	}
	if got, err := ask(t, "", "udp", host(ports[1])); err != nil || got != "dns:hello" {
		t.Fatalf("127.0.0.1:%d/udp: %q, %v", ports[1].HostPort, got, err)
	}
	// The portmap plugin let 127.0.0.1 cross into the bridge.
	if b, _ := os.ReadFile("/proc/sys/net/ipv4/conf/" + n.Bridge + "/route_localnet"); strings.TrimSpace(string(b)) != "1" {
		t.Errorf("route_localnet on %s: %q", n.Bridge, b)
	}
	// The bridge plugin turned forwarding on for the host (TestMain puts
	// back what the host had).
	if b, _ := os.ReadFile("/proc/sys/net/ipv4/ip_forward"); strings.TrimSpace(string(b)) != "1" {
		t.Errorf("ip_forward after attaching a gateway bridge: %q", b)
	}
	// Hairpin: the container reaches its own published port through a
	// host address (the gateway's, on the bridge).
	if got, err := ask(t, c, "tcp", net.JoinHostPort(n.Gateway.String(), strconv.Itoa(int(ports[0].HostPort)))); err != nil || got != "web:hello" {
		t.Fatalf("hairpin %s:%d: %q, %v", n.Gateway, ports[0].HostPort, got, err)
	}
}

func TestDetachLeavesNothing(t *testing.T) {
	rootEnv(t)
	m := newManager(t)
	n := testNet(t, 24)
	cleanNetwork(t, m, n)
	ctx := context.Background()
	c := newNetns(t)
	// The shared chains (CNI-HOSTPORT-*, CNI-FORWARD, isolation) appear
	// with the first attachment and stay: make them first.
	ports := []PortMapping{{"127.0.0.1", freeTCP(t), 80, "tcp"}, {"", freeTCP(t), 81, "tcp"}}
	mustAttach(t, m, n, "warm", c, Options{PortMappings: ports})
	if err := m.Detach(ctx, n, "warm", c, "eth0"); err != nil {
		t.Fatal(err)
	}
	before := iptablesState(t)

	res := mustAttach(t, m, n, "ctr-1", c, Options{PortMappings: ports})
	if iptablesState(t) == before {
		t.Fatal("attach with ports changed no iptables rule")
	}
	if err := m.Detach(ctx, n, "ctr-1", c, "eth0"); err != nil {
		t.Fatal(err)
	}
	if _, err := netlink.LinkByName(res.HostInterface); err == nil {
		t.Errorf("host veth %s left", res.HostInterface)
	}
	inNetns(t, c, func() error {
		if _, err := netlink.LinkByName("eth0"); err == nil {
			return errors.New("eth0 left in the namespace")
		}
		return nil
	})
	assertClean(t, m, n, before)
	// Again: idempotent.
	if err := m.Detach(ctx, n, "ctr-1", c, "eth0"); err != nil {
		t.Fatalf("second detach: %v", err)
	}
}

func TestDetachAfterNetnsGone(t *testing.T) {
	rootEnv(t)
	m := newManager(t)
	n := testNet(t, 24)
	cleanNetwork(t, m, n)
	ctx := context.Background()
	warm := newNetns(t)
	ports := []PortMapping{{"", freeTCP(t), 80, "tcp"}}
	mustAttach(t, m, n, "warm", warm, Options{PortMappings: ports})
	m.Detach(ctx, n, "warm", warm, "eth0")
	before := iptablesState(t)

	dir := t.TempDir()
	path := filepath.Join(dir, "ns")
	if err := netns.New(path); err != nil {
		t.Fatal(err)
	}
	mustAttach(t, m, n, "ctr-gone", path, Options{PortMappings: ports})
	netns.Remove(path) // the kernel deletes the veth; rules and lease stay
	if err := m.Detach(ctx, n, "ctr-gone", path, "eth0"); err != nil {
		t.Fatalf("detach without namespace: %v", err)
	}
	assertClean(t, m, n, before)
}

func TestMissingPlugin(t *testing.T) {
	rootEnv(t)
	dir := t.TempDir()
	for _, p := range []string{"bridge", "host-local", "firewall", "tuning"} { // no portmap
		if err := os.Symlink(filepath.Join(plugins(t), p), filepath.Join(dir, p)); err != nil {
			t.Fatal(err)
		}
	}
	m, err := New(Config{PluginDirs: []string{dir}, StateDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	n := testNet(t, 24)
	before := iptablesState(t)
	c := newNetns(t)
	_, err = m.Attach(context.Background(), n, "ctr-x", c, "eth0", Options{})
	if !errdefs.IsNotFound(err) || !strings.Contains(err.Error(), "portmap") {
		t.Fatalf("missing plugin: %v", err)
	}
	if _, err := netlink.LinkByName(n.Bridge); err == nil {
		t.Error("a bridge was made")
	}
	assertClean(t, m, n, before)
}

func TestPluginFailureRollsBack(t *testing.T) {
	rootEnv(t)
	// A firewall plugin that fails ADD, after bridge and portmap succeeded.
	dir := t.TempDir()
	for _, p := range []string{"bridge", "host-local", "portmap", "tuning"} {
		if err := os.Symlink(filepath.Join(plugins(t), p), filepath.Join(dir, p)); err != nil {
			t.Fatal(err)
		}
	}
	script := "#!/bin/sh\ncat >/dev/null\nif [ \"$CNI_COMMAND\" = ADD ]; then echo '{\"cniVersion\":\"1.0.0\",\"code\":999,\"msg\":\"injected failure\"}'; exit 1; fi\nexit 0\n"
	if err := os.WriteFile(filepath.Join(dir, "firewall"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	m := newManager(t)
	bad, err := New(Config{PluginDirs: []string{dir}, StateDir: m.state})
	if err != nil {
		t.Fatal(err)
	}
	n := testNet(t, 24)
	cleanNetwork(t, m, n)
	ctx := context.Background()
	c := newNetns(t)
	ports := []PortMapping{{"", freeTCP(t), 80, "tcp"}}
	mustAttach(t, m, n, "warm", c, Options{PortMappings: ports})
	m.Detach(ctx, n, "warm", c, "eth0")
	before := iptablesState(t)

	_, err = bad.Attach(ctx, n, "ctr-fail", c, "eth0", Options{PortMappings: ports})
	if err == nil || !strings.Contains(err.Error(), "injected failure") {
		t.Fatalf("attach through a failing plugin: %v", err)
	}
	inNetns(t, c, func() error {
		if _, err := netlink.LinkByName("eth0"); err == nil {
			return errors.New("eth0 left in the namespace")
		}
		return nil
	})
	assertClean(t, m, n, before)
}

func TestPortInUse(t *testing.T) {
	rootEnv(t)
	m := newManager(t)
	n := testNet(t, 24)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	busy := uint16(l.Addr().(*net.TCPAddr).Port)
	before := iptablesState(t)
	c := newNetns(t)
	_, err = m.Attach(context.Background(), n, "ctr-p", c, "eth0", Options{PortMappings: []PortMapping{{"", busy, 80, "tcp"}}})
	if !errdefs.IsAlreadyExists(err) || !strings.Contains(err.Error(), strconv.Itoa(int(busy))) {
		t.Fatalf("port in use: %v", err)
	}
	if _, err := netlink.LinkByName(n.Bridge); err == nil {
		t.Error("a bridge was made")
	}
	assertClean(t, m, n, before)
}

func TestExhaustedRange(t *testing.T) {
	rootEnv(t)
	m := newManager(t)
	n := testNet(t, 30) // .1 gateway, .2 the only address
	cleanNetwork(t, m, n)
	ctx := context.Background()
	a, b := newNetns(t), newNetns(t)
	mustAttach(t, m, n, "first", a, Options{})
	defer m.Detach(ctx, n, "first", a, "eth0")
	_, err := m.Attach(ctx, n, "second", b, "eth0", Options{})
	if !errors.Is(err, errdefs.ErrUnavailable) || !strings.Contains(err.Error(), "exhausted") {
		t.Fatalf("second attach on a /30: %v", err)
	}
	if v := bridgeVeths(t, n.Bridge); len(v) != 1 {
		t.Errorf("veths on the bridge: %v", v)
	}
	ls, _ := m.Leases(n.Name)
	if len(ls) != 1 || ls[0].ContainerID != "first" {
		t.Errorf("leases: %+v", ls)
	}
	// A static address already taken.
	_, err = m.Attach(ctx, n, "third", b, "eth0", Options{IP: ls[0].IP})
	if !errdefs.IsAlreadyExists(err) {
		t.Fatalf("taken static ip: %v", err)
	}
}

func TestOverlappingSubnetOnHost(t *testing.T) {
	rootEnv(t)
	m := newManager(t)
	n := testNet(t, 24)
	cleanNetwork(t, m, n)
	c := newNetns(t)
	mustAttach(t, m, n, "ctr-o", c, Options{})
	defer m.Detach(context.Background(), n, "ctr-o", c, "eth0")
	// The bridge's route is now a host route: a network over it is refused.
	routes, err := HostRoutes()
	if err != nil {
		t.Fatal(err)
	}
	_, err = Create(CreateOptions{Name: "over", Subnet: n.Subnet.String()}, Occupied{Routes: routes})
	if !errdefs.IsAlreadyExists(err) || !strings.Contains(err.Error(), "dev "+n.Bridge) {
		t.Fatalf("overlapping subnet: %v", err)
	}
}

func TestInternalNetwork(t *testing.T) {
	rootEnv(t)
	m := newManager(t)
	n := testNet(t, 24)
	n.Internal = true
	cleanNetwork(t, m, n)
	c := newNetns(t)
	mustAttach(t, m, n, "ctr-i", c, Options{})
	defer m.Detach(context.Background(), n, "ctr-i", c, "eth0")
	inNetns(t, c, func() error {
		routes, err := netlink.RouteList(nil, netlink.FAMILY_V4)
		if err != nil {
			return err
		}
		for _, r := range routes {
			if r.Dst == nil || r.Dst.IP.IsUnspecified() {
				return fmt.Errorf("internal network gave a default route: %v", r)
			}
		}
		return nil
	})
	rules, _, err := saveTable("nat")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rules {
		if owner, _, ok := ruleOwner(r); ok && owner == n.Name {
			t.Errorf("masquerade rule on an internal network: %s", r)
		}
	}
}

func TestAttachDetachCycles(t *testing.T) {
	rootEnv(t)
	m := newManager(t)
	n := testNet(t, 24)
	cleanNetwork(t, m, n)
	ctx := context.Background()
	c := newNetns(t)
	ports := []PortMapping{{"", freeTCP(t), 80, "tcp"}, {"127.0.0.1", freeTCP(t), 53, "udp"}}
	mustAttach(t, m, n, "warm", c, Options{PortMappings: ports})
	m.Detach(ctx, n, "warm", c, "eth0")
	before := iptablesState(t)
	for i := range 50 {
		id := fmt.Sprintf("cycle-%d", i)
		mustAttach(t, m, n, id, c, Options{PortMappings: ports})
		if err := m.Detach(ctx, n, id, c, "eth0"); err != nil {
			t.Fatalf("cycle %d: %v", i, err)
		}
	}
	assertClean(t, m, n, before)
}

func TestReconcile(t *testing.T) {
	rootEnv(t)
	m := newManager(t)
	n := testNet(t, 24)
	cleanNetwork(t, m, n)
	ctx := context.Background()
	warm := newNetns(t)
	ports := []PortMapping{{"", freeTCP(t), 80, "tcp"}}
	mustAttach(t, m, n, "warm", warm, Options{PortMappings: ports})
	m.Detach(ctx, n, "warm", warm, "eth0")
	before := iptablesState(t)

	// A live container, which Reconcile must not touch.
	alive := newNetns(t)
	ra := mustAttach(t, m, n, "alive", alive, Options{})
	defer m.Detach(ctx, n, "alive", alive, "eth0")
	// A container whose berth died: its namespace is gone, everything else stays.
	dir := t.TempDir()
	gone := filepath.Join(dir, "ns")
	if err := netns.New(gone); err != nil {
		t.Fatal(err)
	}
	mustAttach(t, m, n, "crashed", gone, Options{PortMappings: []PortMapping{{"", freeTCP(t), 80, "tcp"}}})
	netns.Remove(gone)
	// A container whose namespace outlived it (held by someone else).
	held := newNetns(t)
	rh := mustAttach(t, m, n, "held", held, Options{})
	// And a lease whose CNI cache is lost.
	lost := newNetns(t)
	mustAttach(t, m, n, "lost", lost, Options{})
	os.Remove(filepath.Join(m.state, "cache", "results", n.Name+"-lost-eth0"))

	live := map[string]bool{"alive": true}
	l, err := m.FindLeftovers(ctx, []Network{n}, live)
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Attachments) != 2 || len(l.Leases) != 3 || len(l.Chains) != 4 || len(l.Veths) != 2 || len(l.ForwardRules) != 3 {
		t.Fatalf("leftovers: %s", l)
	}
	if !strings.Contains(l.String(), rh.HostInterface) {
		t.Fatalf("leftovers miss the held veth %s: %s", rh.HostInterface, l)
	}
	removed, err := m.Reconcile(ctx, []Network{n}, live)
	if err != nil {
		t.Fatal(err)
	}
	if removed.Empty() {
		t.Fatal("reconcile removed nothing")
	}
	if l, err := m.FindLeftovers(ctx, []Network{n}, live); err != nil || !l.Empty() {
		t.Fatalf("after reconcile: %s, %v", l, err)
	}
	if v := bridgeVeths(t, n.Bridge); len(v) != 1 || v[0] != ra.HostInterface {
		t.Fatalf("veths after reconcile: %v, want the live %s", v, ra.HostInterface)
	}
	if err := m.Check(ctx, n, "alive", alive, "eth0"); err != nil {
		t.Fatalf("live attachment after reconcile: %v", err)
	}
	if err := m.Detach(ctx, n, "alive", alive, "eth0"); err != nil {
		t.Fatal(err)
	}
	assertClean(t, m, n, before)
}

func TestRemoveNetwork(t *testing.T) {
	rootEnv(t)
	m := newManager(t)
	n := testNet(t, 24)
	ctx := context.Background()
	before := iptablesState(t)
	c := newNetns(t)
	mustAttach(t, m, n, "ctr-r", c, Options{})
	if err := m.RemoveNetwork(n); !errdefs.IsFailedPrecondition(err) {
		t.Fatalf("remove a network in use: %v", err)
	}
	if err := m.Detach(ctx, n, "ctr-r", c, "eth0"); err != nil {
		t.Fatal(err)
	}
	if err := m.RemoveNetwork(n); err != nil {
		t.Fatal(err)
	}
	if _, err := netlink.LinkByName(n.Bridge); err == nil {
		t.Fatal("bridge left")
	}
	if _, err := os.Stat(m.leaseDir(n.Name)); !os.IsNotExist(err) {
		t.Fatalf("lease dir: %v", err)
	}
	after := iptablesState(t)
	if strings.Contains(after, n.Bridge) {
		t.Fatalf("rules naming %s left:\n%s", n.Bridge, after)
	}
	_ = before
}

// freeTCP is a free TCP port on the host.
func freeTCP(t *testing.T) uint16 {
	t.Helper()
	p, err := freePort("", "tcp")
	if err != nil {
		t.Fatal(err)
	}
	return p
}
