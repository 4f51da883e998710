package integration

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/containernetworking/plugins/pkg/utils"

	"github.com/berth-project/berth/internal/store"
	"github.com/berth-project/berth/test/kit"
)

// Networking through the CLI (issue 6): published ports reached from the
// test on 127.0.0.1 (TCP through busybox httpd, UDP through a small echo
// server), user networks with names and aliases in the peers' hosts
// files, the default network without names, the none/host/container:
// modes, bad input, 50 run/rm cycles and kill -9 of everything. Traffic
// goes only to 127.0.0.1 and to the containers' addresses inside networks
// the tests make (user networks on 10.251.N.0/24, the default network on
// the subnet the engine chose for the test's root).
//
// Every test has a root of its own, hence a default bridge of its own, and
// checks when it ends that its containers and networks left nothing: no
// bridge or veth of its networks, no network namespace file, no IP lease,
// no libcni cache entry, no network.json, and no iptables rule that names
// one of its bridges, containers (the plugins' comments and chain names)
// or addresses (iptables-save before and after; the shared CNI-* chains
// the plugins make once stay).

const netImageRepo = "/itest/network-busybox:1"

// netEnv is berth over a root of the test's own with the busybox image.
type netEnv struct {
	*berthCLI
	t        *testing.T
	image    string
	ipt0     map[string]bool // iptables-save lines before the test
	bridges  map[string]bool // the bridges of the test's networks
	subnets  []netip.Prefix  // their subnets
	netNames map[string]bool // the test's network names, the default's too
	ids      map[string]bool // every container the test made
}

func newNetEnv(t *testing.T) *netEnv {
	t.Helper()
	b := newBerth(t)
	if _, err := exec.LookPath("iptables-save"); err != nil {
		t.Fatalf("iptables-save: %v (networking needs iptables)", err)
	}
	ref := kit.Registry(t) + netImageRepo
	kit.PushImage(t, kit.BusyboxImage(t, ""), ref)
	b.must("pull", "-q", ref)
	e := &netEnv{berthCLI: b, t: t, image: ref, ipt0: iptablesLines(t),
		bridges: map[string]bool{}, netNames: map[string]bool{}, ids: map[string]bool{}}
	e.learnNetwork("berth")
	t.Cleanup(e.cleanup) // before newBerth's own checks
	return e
}

// netInspect is what the tests read of `network inspect`.
type netInspect struct {
	Name string
	ID   string `json:"Id"`
	IPAM struct {
		Config []struct{ Subnet, Gateway, IPRange string }
	}
	Internal   bool
	Containers map[string]struct{ Name, IPv4Address, MacAddress string }
	Options    map[string]string
	Labels     map[string]string
}

func (e *netEnv) inspectNet(name string) netInspect {
	e.t.Helper()
	var out []netInspect
	if err := json.Unmarshal([]byte(e.must("network", "inspect", name)), &out); err != nil || len(out) != 1 {
		e.t.Fatalf("network inspect %s: %v", name, err)
	}
	return out[0]
}

// learnNetwork notes a network's bridge and subnet for the leak checks.
func (e *netEnv) learnNetwork(name string) netInspect {
	e.t.Helper()
	n := e.inspectNet(name)
	e.bridges[n.Options["com.docker.network.bridge.name"]] = true
	e.netNames[n.Name] = true
	if p, err := netip.ParsePrefix(n.IPAM.Config[0].Subnet); err == nil {
		e.subnets = append(e.subnets, p)
	}
	return n
}

// createNet makes a user network and learns it.
func (e *netEnv) createNet(name string, flags ...string) netInspect {
	e.t.Helper()
	id := strings.TrimSpace(e.must(append(append([]string{"network", "create"}, flags...), name)...))
	n := e.learnNetwork(name)
	if n.ID != id {
		e.t.Errorf("network create printed %s, inspect says %s", id, n.ID)
	}
	return n
}

// runD starts a container with flags and a command, returns its ID.
func (e *netEnv) runD(flags []string, cmd ...string) string {
	e.t.Helper()
	args := append(append(append([]string{"run", "-d"}, flags...), e.image), cmd...)
	id := strings.TrimSpace(e.must(args...))
	e.ids[id] = true
	return id
}

// fails runs berth and wants exit 125 with every one of wants in stderr.
func (e *netEnv) fails(args []string, wants ...string) string {
	e.t.Helper()
	out, errs, code := e.run(args...)
	if code != 125 {
		e.t.Errorf("berth %s: exit %d, want 125\n%s%s", strings.Join(args, " "), code, out, errs)
	}
	for _, w := range wants {
		if !strings.Contains(errs, w) {
			e.t.Errorf("berth %s: stderr %q does not say %q", strings.Join(args, " "), errs, w)
		}
	}
	return errs
}

// netCtrInspect is what the tests read of a container's inspect.
type netCtrInspect struct {
	ID    string `json:"Id"`
	Name  string
	State struct {
		Status     string
		Pid        int
		MonitorPid int
	}
	HostConfig struct {
		NetworkMode string
		Dns         []string
		ExtraHosts  []string
	}
	NetworkSettings struct {
		IPAddress, Gateway, MacAddress string
		Ports                          map[string][]struct{ HostIp, HostPort string }
		Networks                       map[string]struct {
			IPAddress, NetworkID string
			Aliases              []string
		}
	}
}

func (e *netEnv) inspect(name string) netCtrInspect {
	e.t.Helper()
	var out []netCtrInspect
	if err := json.Unmarshal([]byte(e.must("inspect", "--type", "container", name)), &out); err != nil || len(out) != 1 {
		e.t.Fatalf("inspect %s: %v", name, err)
	}
	return out[0]
}

// cleanup removes the test's containers and networks, then looks for what
// they left.
func (e *netEnv) cleanup() {
	t := e.t
	out, _, _ := e.run("ps", "-a", "-q", "--no-trunc")
	for _, id := range outLines(out) {
		e.ids[id] = true
		if _, errs, code := e.run("rm", "-f", "-v", id); code != 0 {
			t.Errorf("cleanup: rm -f %s: %s", id, errs)
		}
	}
	if _, errs, code := e.run("network", "prune", "-f"); code != 0 {
		t.Errorf("cleanup: network prune: %s", errs)
	}
	if left := outLines(e.must("network", "ls", "-q", "--filter", "type=custom")); len(left) > 0 {
		t.Errorf("networks left after prune: %q", left)
	}
	e.checkNoLeftovers("the end of the test")
}

// checkNoLeftovers fails the test for everything of its networks that is
// still on the host.
func (e *netEnv) checkNoLeftovers(when string) {
	t := e.t
	t.Helper()
	links, err := net.Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range links {
		if e.bridges[l.Name] {
			t.Errorf("at %s: bridge %s is still there", when, l.Name)
		}
		if master, err := os.Readlink("/sys/class/net/" + l.Name + "/master"); err == nil && e.bridges[filepath.Base(master)] {
			t.Errorf("at %s: interface %s is still on bridge %s", when, l.Name, filepath.Base(master))
		}
	}
	for _, dir := range []string{filepath.Join(e.runroot, "netns"), filepath.Join(e.runroot, "cni", "cache", "results")} {
		left, _ := os.ReadDir(dir)
		for _, f := range left {
			t.Errorf("at %s: %s left in %s", when, f.Name(), dir)
		}
	}
	leases, _ := filepath.Glob(filepath.Join(e.runroot, "cni", "ipam", "*", "*"))
	for _, l := range leases {
		if _, err := netip.ParseAddr(filepath.Base(l)); err == nil {
			t.Errorf("at %s: IP lease %s left", when, l)
		}
	}
	if js, _ := filepath.Glob(filepath.Join(e.runroot, "containers", "*", "network.json")); len(js) > 0 {
		t.Errorf("at %s: %q left", when, js)
	}
	e.checkIptables(when)
}

// iptablesLines is iptables-save without comments and counters.
func iptablesLines(t testing.TB) map[string]bool {
	t.Helper()
	out, err := exec.Command("iptables-save").Output()
	if err != nil {
		t.Fatalf("iptables-save: %v", err)
	}
	lines := map[string]bool{}
	counters := regexp.MustCompile(`\[\d+:\d+\]`)
	for _, l := range strings.Split(string(out), "\n") {
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		lines[counters.ReplaceAllString(l, "")] = true
	}
	return lines
}

var ipv4InRule = regexp.MustCompile(`\b(\d+\.\d+\.\d+\.\d+)(/\d+)?\b`)

// checkIptables fails for every rule or chain added or removed since the
// test began that names one of its bridges, containers or addresses.
// Other changes — the shared CNI-* chains the plugins make once, rules of
// other processes — are logged.
func (e *netEnv) checkIptables(when string) {
	t := e.t
	t.Helper()
	now := iptablesLines(t)
	var markers []string
	for b := range e.bridges {
		markers = append(markers, " "+b+" ", " "+b+"\n")
	}
	for id := range e.ids {
		markers = append(markers, id)
		for n := range e.netNames {
			markers = append(markers, utils.FormatChainName(n, id), utils.MustFormatChainNameWithPrefix(n, id, "DN-"))
		}
	}
	mine := func(l string) bool {
		for _, m := range markers {
			if strings.Contains(l+"\n", m) {
				return true
			}
		}
		for _, mm := range ipv4InRule.FindAllStringSubmatch(l, -1) {
			a, err := netip.ParseAddr(mm[1])
			if err != nil {
				continue
			}
			for _, p := range e.subnets {
				if p.Contains(a) {
					return true
				}
			}
		}
		return false
	}
	for l := range now {
		if e.ipt0[l] {
			continue
		}
		if mine(l) {
			t.Errorf("at %s: iptables rule left: %s", when, l)
		} else if !strings.Contains(l, "CNI-") {
			t.Logf("at %s: iptables line added by someone else: %s", when, l)
		}
	}
	for l := range e.ipt0 {
		if !now[l] && mine(l) {
			t.Errorf("at %s: iptables line removed: %s", when, l)
		}
	}
}

// freePort returns a port nothing listens on (TCP or UDP) on 127.0.0.1.
func freePort(t testing.TB, proto string) int {
	t.Helper()
	if proto == "udp" {
		c, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).Port
	}
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// httpGet fetches url, retrying while the server starts (up to 15 s).
func httpGet(t testing.TB, url string) string {
	t.Helper()
	client := &http.Client{Timeout: 3 * time.Second}
	var last error
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		resp, err := client.Get(url)
		if err != nil {
			last = err
			continue
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err == nil && resp.StatusCode == 200 {
			return string(b)
		}
		last = fmt.Errorf("status %s, %v", resp.Status, err)
	}
	t.Fatalf("GET %s: %v", url, last)
	return ""
}

// udpEcho sends msg to addr and returns the answer, retrying while the
// server starts (up to 15 s).
func udpEcho(t testing.TB, addr, msg string) string {
	t.Helper()
	c, err := net.Dial("udp4", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	buf := make([]byte, 512)
	var last error
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); {
		if _, err := c.Write([]byte(msg)); err != nil {
			last = err
			time.Sleep(100 * time.Millisecond)
			continue
		}
		c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		n, err := c.Read(buf)
		if err == nil {
			return string(buf[:n])
		}
		last = err
	}
	t.Fatalf("udp %s: no echo: %v", addr, last)
	return ""
}

// netToolSource is a helper the containers run: busybox has no UDP server,
// and its static glibc resolver crashes on names (ping's own lookup
// works), so TCP by name goes through Go's resolver, which reads
// /etc/hosts.
const netToolSource = `package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"
)

func main() {
	switch os.Args[1] {
	case "udp-echo": // udp-echo PORT
		c, err := net.ListenPacket("udp", ":"+os.Args[2])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		buf := make([]byte, 512)
		for {
			n, from, err := c.ReadFrom(buf)
			if err == nil {
				c.WriteTo(buf[:n], from)
			}
		}
	case "get": // get URL
		resp, err := (&http.Client{Timeout: 5 * time.Second}).Get(os.Args[2])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		io.Copy(os.Stdout, resp.Body)
	case "resolve": // resolve NAME
		addrs, err := net.LookupHost(os.Args[2])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Println(addrs[0])
	}
}
`

// netTool builds the helper (static) into a directory of t's and returns
// a -v flag that binds it at /nettool.
func netTool(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(netToolSource), 0o644); err != nil {
		t.Fatal(err)
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		gobin = filepath.Join(os.Getenv("GOROOT"), "bin", "go")
	}
	cmd := exec.Command(gobin, "build", "-trimpath", "-tags", "netgo", "-o", "nettool", "main.go")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GO111MODULE=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build the net tool: %v\n%s", err, out)
	}
	return filepath.Join(dir, "nettool") + ":/nettool:ro"
}

// httpdCmd serves body at / on port 80 (busybox httpd in the foreground).
func httpdCmd(body string) []string {
	return []string{"sh", "-c", "mkdir -p /www && echo " + body + " > /www/index.html && exec httpd -f -p 80 -h /www"}
}

// TestNetworkPublish: TCP and UDP through published ports on 127.0.0.1,
// -P with a port shown by `berth port`, inspect and ps, and host ports
// that are taken.
func TestNetworkPublish(t *testing.T) {
	e := newNetEnv(t)
	tool := netTool(t)
	tcpPort, udpPort := freePort(t, "tcp"), freePort(t, "udp")
	e.runD([]string{"--name", "web", "-v", tool, "-p", fmt.Sprintf("127.0.0.1:%d:80", tcpPort), "-p", fmt.Sprintf("%d:53/udp", udpPort)},
		"sh", "-c", "mkdir -p /www && echo web-content > /www/index.html && { /nettool udp-echo 53 & exec httpd -f -p 80 -h /www; }")
	if got := httpGet(t, fmt.Sprintf("http://127.0.0.1:%d/", tcpPort)); got != "web-content\n" {
		t.Errorf("GET through the published port: %q", got)
	}
	if got := udpEcho(t, fmt.Sprintf("127.0.0.1:%d", udpPort), "ping over udp"); got != "ping over udp" {
		t.Errorf("UDP echo through the published port: %q", got)
	}
	want := fmt.Sprintf("53/udp -> 0.0.0.0:%d\n80/tcp -> 127.0.0.1:%d\n", udpPort, tcpPort)
	if got := e.must("port", "web"); sortedLines(got) != want {
		t.Errorf("port web: %q, want %q", got, want)
	}
	if got := e.must("port", "web", "80"); got != fmt.Sprintf("127.0.0.1:%d\n", tcpPort) {
		t.Errorf("port web 80: %q", got)
	}
	i := e.inspect("web")
	if p := i.NetworkSettings.Ports["80/tcp"]; len(p) != 1 || p[0].HostIp != "127.0.0.1" || p[0].HostPort != strconv.Itoa(tcpPort) {
		t.Errorf("inspect Ports[80/tcp]: %+v", p)
	}
	if i.HostConfig.NetworkMode != "bridge" || i.NetworkSettings.IPAddress == "" || i.NetworkSettings.Networks["berth"].IPAddress != i.NetworkSettings.IPAddress {
		t.Errorf("inspect of a container on the default network: mode %q, settings %+v", i.HostConfig.NetworkMode, i.NetworkSettings)
	}
	if ps := e.must("ps", "--format", "{{.Names}} {{.Ports}}"); !strings.Contains(ps, fmt.Sprintf("web 0.0.0.0:%d->53/udp, 127.0.0.1:%d->80/tcp", udpPort, tcpPort)) &&
		!strings.Contains(ps, fmt.Sprintf("web 127.0.0.1:%d->80/tcp, 0.0.0.0:%d->53/udp", tcpPort, udpPort)) {
		t.Errorf("ps PORTS: %q", ps)
	}

	// Another root on the host prunes: its reconcile leaves this root's
	// rules alone (the plugins see each root's networks under names of
	// their own).
	other := newBerth(t)
	other.must("network", "ls")
	other.must("system", "prune", "-f")
	if got := httpGet(t, fmt.Sprintf("http://127.0.0.1:%d/", tcpPort)); got != "web-content\n" {
		t.Errorf("GET after another root's prune: %q", got)
	}
	// stop and start: detached, then attached again with the same ports.
	e.must("stop", "-t", "1", "web")
	if got := e.must("port", "web"); got != "" {
		t.Errorf("port of a stopped container: %q", got)
	}
	// The monitor's exit command detaches it, a moment after stop returns.
	waitUntil(t, "the stopped container's network.json to go", func() bool {
		js, _ := filepath.Glob(filepath.Join(e.runroot, "containers", "*", "network.json"))
		return len(js) == 0
	})
	e.must("start", "web")
	if got := httpGet(t, fmt.Sprintf("http://127.0.0.1:%d/", tcpPort)); got != "web-content\n" {
		t.Errorf("GET after stop and start: %q", got)
	}

	// -P: the exposed port on a free host port, which `port` shows.
	e.runD([]string{"--name", "all", "-P", "--expose", "80", "-v", tool}, httpdCmd("published-all")...)
	hostAddr := strings.TrimSpace(e.must("port", "all", "80/tcp"))
	_, hp, err := net.SplitHostPort(hostAddr)
	if err != nil || !strings.HasPrefix(hostAddr, "0.0.0.0:") {
		t.Fatalf("port all 80/tcp: %q", hostAddr)
	}
	if got := httpGet(t, "http://127.0.0.1:"+hp+"/"); got != "published-all\n" {
		t.Errorf("GET through -P's port %s: %q", hp, got)
	}
	// Hairpin: the container reaches its own published port through the
	// network's gateway, a host address.
	gw := e.inspect("all").NetworkSettings.Gateway
	if got := e.must("exec", "all", "/nettool", "get", "http://"+gw+":"+hp+"/"); got != "published-all\n" {
		t.Errorf("GET of its own published port through the gateway %s: %q", gw, got)
	}

	// A host port another process listens on: a clear error, the
	// container is created but not started, nothing of the network left.
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	taken := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	before := e.leaseCount()
	e.fails([]string{"run", "-d", "--name", "busy", "-p", taken + ":80", e.image, "true"}, taken, "already in use")
	// A host port another container publishes (its DNAT rule holds no
	// socket): named with that container.
	e.fails([]string{"run", "-d", "--name", "busy2", "-p", fmt.Sprintf("127.0.0.1:%d:80", tcpPort), e.image, "true"}, strconv.Itoa(tcpPort), "already published", "web")
	for _, name := range []string{"busy", "busy2"} {
		if st := e.inspect(name).State.Status; st != "created" {
			t.Errorf("%s after a start that failed: %s, want created", name, st)
		}
		e.ids[e.inspect(name).ID] = true
		if js, _ := filepath.Glob(filepath.Join(e.runroot, "containers", e.inspect(name).ID, "network.json")); len(js) > 0 {
			t.Errorf("%s: network.json after a failed start", name)
		}
	}
	if n := e.leaseCount(); n != before {
		t.Errorf("leases: %d before the failed starts, %d after", before, n)
	}
	// The first container still serves.
	if got := httpGet(t, fmt.Sprintf("http://127.0.0.1:%d/", tcpPort)); got != "web-content\n" {
		t.Errorf("GET after the refused starts: %q", got)
	}
	// Bad -p and -p where no bridge is.
	e.fails([]string{"run", "--rm", "-p", "99999:80", e.image, "true"}, "99999")
	e.fails([]string{"run", "--rm", "-p", "80:80", "--network", "host", e.image, "true"}, "bridge network")
	e.fails([]string{"run", "--rm", "-p", "80:80", "--network", "none", e.image, "true"}, "bridge network")
}

// leaseCount counts the IP leases of the test's root.
func (e *netEnv) leaseCount() int {
	n := 0
	leases, _ := filepath.Glob(filepath.Join(e.runroot, "cni", "ipam", "*", "*"))
	for _, l := range leases {
		if _, err := netip.ParseAddr(filepath.Base(l)); err == nil {
			n++
		}
	}
	return n
}

func sortedLines(s string) string {
	l := outLines(s)
	slices.Sort(l)
	return strings.Join(l, "\n") + "\n"
}

// TestNetworkNames: on a user network containers reach each other by name
// and alias (hosts files kept up to date as peers come and go, connect and
// disconnect); the default network gives no names and cannot reach a user
// network; network ls/inspect/rm.
func TestNetworkNames(t *testing.T) {
	e := newNetEnv(t)
	tool := netTool(t)
	n := e.createNet("itnet1", "--subnet", "10.251.1.0/24", "--label", "suite=network")
	if n.IPAM.Config[0].Subnet != "10.251.1.0/24" || n.IPAM.Config[0].Gateway != "10.251.1.1" || n.Labels["suite"] != "network" {
		t.Errorf("network inspect: %+v", n)
	}
	if got := e.must("network", "ls", "--format", "{{.Name}} {{.Driver}}", "--filter", "label=suite=network"); got != "itnet1 bridge\n" {
		t.Errorf("network ls --filter label: %q", got)
	}
	e.runD([]string{"--name", "srv", "--network", "itnet1", "--network-alias", "db"}, httpdCmd("from-srv")...)
	e.runD([]string{"--name", "peer", "--network", "itnet1", "--ip", "10.251.1.77", "-v", tool}, "sleep", "600")
	if ip := e.inspect("peer").NetworkSettings.Networks["itnet1"].IPAddress; ip != "10.251.1.77" {
		t.Errorf("--ip 10.251.1.77: inspect says %q", ip)
	}
	for _, name := range []string{"srv", "db"} {
		if got := e.must("exec", "peer", "/nettool", "get", "http://"+name+"/"); got != "from-srv\n" {
			t.Errorf("GET http://%s/ from peer: %q", name, got)
		}
	}
	if out, errs, code := e.run("exec", "srv", "busybox", "ping", "-c", "1", "-W", "2", "peer"); code != 0 {
		t.Errorf("ping peer from srv: exit %d\n%s%s", code, out, errs)
	}
	hosts := e.must("exec", "srv", "cat", "/etc/hosts")
	if !regexp.MustCompile(`(?m)^10\.251\.1\.77\tpeer [0-9a-f]{12}$`).MatchString(hosts) || !regexp.MustCompile(`(?m)^10\.251\.1\.\d+\t[0-9a-f]{12} srv db$`).MatchString(hosts) {
		t.Errorf("srv's /etc/hosts:\n%s", hosts)
	}
	if c := e.inspectNet("itnet1").Containers; len(c) != 2 {
		t.Errorf("network inspect Containers: %+v", c)
	}
	e.fails([]string{"network", "rm", "itnet1"}, "in use", "srv")

	// The default network: no names, and no way into the user network.
	e.runD([]string{"--name", "plain", "-v", tool}, httpdCmd("from-plain")...)
	if out, _, code := e.run("exec", "plain", "/nettool", "resolve", "srv"); code == 0 {
		t.Errorf("the default network resolves srv: %q", out)
	}
	if _, _, code := e.run("exec", "plain", "busybox", "ping", "-c", "1", "-W", "1", "10.251.1.77"); code == 0 {
		t.Error("a container on the default network reaches one on a user network")
	}
	if h := e.must("exec", "plain", "cat", "/etc/hosts"); strings.Contains(h, "srv") || strings.Contains(h, "peer") {
		t.Errorf("plain's /etc/hosts names peers:\n%s", h)
	}

	// connect: plain joins itnet1 as "web2"; srv's hosts file learns it.
	e.must("network", "connect", "--alias", "web2", "itnet1", "plain")
	if got := e.must("exec", "peer", "/nettool", "get", "http://web2/"); got != "from-plain\n" {
		t.Errorf("GET http://web2/ after connect: %q", got)
	}
	if h := e.must("exec", "srv", "cat", "/etc/hosts"); !strings.Contains(h, "plain web2") {
		t.Errorf("srv's /etc/hosts after connect:\n%s", h)
	}
	e.fails([]string{"network", "connect", "itnet1", "plain"}, "already connected")
	e.must("network", "disconnect", "itnet1", "plain")
	if h := e.must("exec", "srv", "cat", "/etc/hosts"); strings.Contains(h, "web2") {
		t.Errorf("srv's /etc/hosts after disconnect:\n%s", h)
	}
	if out, _, code := e.run("exec", "peer", "/nettool", "resolve", "web2"); code == 0 {
		t.Errorf("web2 resolves after disconnect: %q", out)
	}
	// A peer that goes leaves the others' hosts files.
	e.must("rm", "-f", "peer")
	if h := e.must("exec", "srv", "cat", "/etc/hosts"); strings.Contains(h, "peer") {
		t.Errorf("srv's /etc/hosts after peer's removal:\n%s", h)
	}
	// A container that does not run joins at its next start, on eth1.
	id := strings.TrimSpace(e.must("create", "--name", "later", e.image, "sleep", "600"))
	e.ids[id] = true
	e.must("network", "connect", "--alias", "late", "itnet1", "later")
	e.must("start", "later")
	if out := e.must("exec", "later", "busybox", "ip", "-4", "-o", "addr", "show", "eth1"); !strings.Contains(out, " 10.251.1.") {
		t.Errorf("eth1 of a container connected before its start: %q", out)
	}
	if h := e.must("exec", "srv", "cat", "/etc/hosts"); !strings.Contains(h, "later late") {
		t.Errorf("srv's /etc/hosts after later's start:\n%s", h)
	}
	e.must("rm", "-f", "srv", "plain", "later")
	if got := e.must("network", "rm", "itnet1"); got != "itnet1\n" {
		t.Errorf("network rm: %q", got)
	}
	e.fails([]string{"network", "rm", "berth"}, "default network")
	e.fails([]string{"network", "inspect", "itnet1"}, "not found")
	e.checkNoLeftovers("after network rm")
}

// TestNetworkModes: container:NAME shares the namespace, host sees the
// host's interfaces, none has loopback only; --dns*, --add-host,
// --hostname, --mac-address in the container's files.
func TestNetworkModes(t *testing.T) {
	e := newNetEnv(t)
	e.runD([]string{"--name", "owner"}, "sleep", "600")
	ip := e.inspect("owner").NetworkSettings.IPAddress
	out := e.must("run", "--rm", "--network", "container:owner", e.image, "sh", "-c", "busybox ip -4 -o addr show eth0")
	if ip == "" || !strings.Contains(out, " "+ip+"/") {
		t.Errorf("--network container:owner: %q, want owner's address %s", out, ip)
	}
	// Other tests on the host may add and remove veths meanwhile: the
	// container must see every interface there before and after, and
	// nothing that was in neither list.
	hostIfs := func() map[string]bool {
		m := map[string]bool{}
		ifs, _ := net.Interfaces()
		for _, i := range ifs {
			m[i.Name] = true
		}
		return m
	}
	before := hostIfs()
	got := outLines(e.must("run", "--rm", "--network", "host", e.image, "ls", "/sys/class/net"))
	after := hostIfs()
	for name := range before {
		if after[name] && !slices.Contains(got, name) {
			t.Errorf("--network host does not see the host's %s: %q", name, got)
		}
	}
	for _, name := range got {
		if !before[name] && !after[name] {
			t.Errorf("--network host sees %s, which the host does not have", name)
		}
	}
	if !slices.Contains(got, "eth0") || len(got) < 2 {
		t.Errorf("--network host: %q", got)
	}
	if got := e.must("run", "--rm", "--network", "none", e.image, "ls", "/sys/class/net"); got != "lo\n" {
		t.Errorf("--network none: %q", got)
	}
	out = e.must("run", "--rm", "--hostname", "box1", "--mac-address", "02:42:ac:11:00:99",
		"--dns", "10.251.0.53", "--dns-search", "example.test", "--dns-option", "ndots:2",
		"--add-host", "extra.test:10.251.0.9", e.image,
		"sh", "-c", "cat /etc/resolv.conf; echo ---; cat /etc/hosts; echo ---; cat /sys/class/net/eth0/address; hostname")
	parts := strings.Split(out, "---\n")
	if len(parts) != 3 {
		t.Fatalf("output: %q", out)
	}
	if parts[0] != "nameserver 10.251.0.53\nsearch example.test\noptions ndots:2\n" &&
		!strings.HasSuffix(parts[0], "nameserver 10.251.0.53\nsearch example.test\noptions ndots:2\n") {
		t.Errorf("resolv.conf with --dns, --dns-search, --dns-option:\n%s", parts[0])
	}
	if strings.Count(parts[0], "nameserver") != 1 {
		t.Errorf("resolv.conf keeps the host's nameservers:\n%s", parts[0])
	}
	if !strings.Contains(parts[1], "10.251.0.9\textra.test\n") || !regexp.MustCompile(`(?m)^\d+\.\d+\.\d+\.\d+\tbox1$`).MatchString(parts[1]) {
		t.Errorf("hosts with --add-host and --hostname:\n%s", parts[1])
	}
	if parts[2] != "02:42:ac:11:00:99\nbox1\n" {
		t.Errorf("--mac-address and --hostname: %q", parts[2])
	}
	e.fails([]string{"run", "--rm", "--network", "nosuchnet", e.image, "true"}, "network nosuchnet not found")
	e.fails([]string{"run", "--rm", "--ip", "10.251.0.5", e.image, "true"}, "user network")
	e.fails([]string{"run", "--rm", "--network", "none", "--network-alias", "x", e.image, "true"}, "user network")
	e.fails([]string{"run", "--rm", "--add-host", "nocolon", e.image, "true"}, "--add-host")
	e.fails([]string{"run", "--rm", "--dns", "not-an-ip", e.image, "true"}, "--dns")
	e.fails([]string{"run", "--rm", "--network", "container:owner", "--dns", "10.0.0.1", e.image, "true"}, "--dns")
	if ids := outLines(e.must("ps", "-a", "-q")); len(ids) != 1 {
		t.Errorf("containers after the refused runs: %q, want owner's alone", ids)
	}
}

// TestNetworkBadInput: overlapping subnets, an exhausted range, a missing
// plugin, bad names — each a clear error, nothing leaked.
func TestNetworkBadInput(t *testing.T) {
	e := newNetEnv(t)
	e.createNet("itover1", "--subnet", "10.251.2.0/24")
	e.fails([]string{"network", "create", "--subnet", "10.251.2.128/25", "itover2"}, "overlaps", "itover1")
	e.fails([]string{"network", "create", "--subnet", "10.251.2.0/24", "itover1"}, "already exists")
	e.fails([]string{"network", "create", "--driver", "macvlan", "itbad"}, "driver")
	e.fails([]string{"network", "create", "--subnet", "10.251.4.0/24", "--gateway", "10.251.5.1", "itbad"}, "gateway")
	e.fails([]string{"network", "create", "bad name"}, "network name")
	e.fails([]string{"network", "create", "host"}, "network mode")
	e.fails([]string{"network", "rm", "nosuchnet"}, "not found")
	e.fails([]string{"network", "connect", "nosuchnet", "nosuchctr"}, "nosuch")

	// A range of two addresses (10.251.3.0/30 less the network address and
	// the gateway): the third container is refused.
	e.createNet("itsmall", "--subnet", "10.251.3.0/24", "--ip-range", "10.251.3.0/30")
	e.runD([]string{"--network", "itsmall"}, "sleep", "600")
	e.runD([]string{"--network", "itsmall"}, "sleep", "600")
	leases := e.leaseCount()
	e.fails([]string{"run", "-d", "--name", "third", "--network", "itsmall", e.image, "sleep", "600"}, "itsmall", "exhausted")
	e.ids[e.inspect("third").ID] = true
	if n := e.leaseCount(); n != leases {
		t.Errorf("leases: %d, then %d after the refused start", leases, n)
	}
	e.fails([]string{"run", "-d", "--network", "itsmall", "--ip", "10.251.3.9", e.image, "true"}, "10.251.3.9")

	// No plugins where berth looks: the plugin is named, nothing is made.
	empty := t.TempDir()
	e.env = []string{"BERTH_CNI_PATH=" + empty}
	errs := e.fails([]string{"run", "-d", "--name", "noplugin", e.image, "sleep", "600"}, "cni plugin", "bridge", "not found", empty)
	e.env = nil
	e.ids[e.inspect("noplugin").ID] = true
	if strings.Count(errs, "\n") > 2 {
		t.Errorf("missing plugin: a long error:\n%s", errs)
	}
	e.must("rm", "-f", "noplugin", "third")
	e.must(append([]string{"rm", "-f"}, outLines(e.must("ps", "-a", "-q"))...)...)
	e.must("network", "rm", "itsmall", "itover1")
	e.checkNoLeftovers("after the bad input")
}

// TestNetworkLeaks: 50 run/rm cycles with a published port leave nothing;
// after kill -9 of a container and its monitor, the next start that wants
// its host port gets it (the reconcile at start); after kill -9 of
// everything, and a crash that lost a record, `system prune` leaves
// nothing either.
func TestNetworkLeaks(t *testing.T) {
	e := newNetEnv(t)
	port := freePort(t, "tcp")
	for i := 0; i < 50; i++ {
		id := e.runD([]string{"-p", fmt.Sprintf("127.0.0.1:%d:80", port)}, "sleep", "600")
		e.must("rm", "-f", id)
	}
	e.checkNoLeftovers("after 50 run/rm cycles")

	// kill -9, then a new container on the same host port.
	first := e.runD([]string{"--name", "first", "-p", fmt.Sprintf("127.0.0.1:%d:80", port)}, httpdCmd("first")...)
	httpGet(t, fmt.Sprintf("http://127.0.0.1:%d/", port))
	e.kill9(first)
	e.runD([]string{"--name", "next", "-p", fmt.Sprintf("127.0.0.1:%d:80", port)}, httpdCmd("next")...)
	if got := httpGet(t, fmt.Sprintf("http://127.0.0.1:%d/", port)); got != "next\n" {
		t.Errorf("GET after the crash: %q, want the new container's", got)
	}
	if js, _ := filepath.Glob(filepath.Join(e.runroot, "containers", first, "network.json")); len(js) > 0 {
		t.Error("the crashed container's network.json is left after the next start")
	}
	e.must("rm", "-f", "first", "next")
	e.checkNoLeftovers("after kill -9 and the next start")

	// kill -9 of everything; one container's record (and its network.json)
	// lost as well: only the network's own state remembers it.
	e.createNet("itcrash", "--subnet", "10.251.6.0/24")
	victims := []string{
		e.runD([]string{"--name", "v1", "-p", fmt.Sprintf("127.0.0.1:%d:80", port)}, "sleep", "600"),
		e.runD([]string{"--name", "v2", "--network", "itcrash", "-P", "--expose", "80"}, "sleep", "600"),
		e.runD([]string{"--name", "v3", "--network", "itcrash"}, "sleep", "600"),
	}
	for _, id := range victims {
		e.kill9(id)
	}
	db, err := store.Open(filepath.Join(e.root, "berth.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *store.Tx) error {
		if err := store.Delete(tx, store.Containers, victims[2]); err != nil {
			return err
		}
		return tx.Release("container", "v3")
	}); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(e.runroot, "containers", victims[2], "network.json"))
	old := time.Now().Add(-time.Hour)
	os.Chtimes(filepath.Join(e.root, "containers", victims[2]), old, old)

	out := e.must("system", "prune", "-f")
	for _, w := range []string{victims[0], victims[1], "Deleted Networks:\nitcrash\n", "network leftovers", victims[2]} {
		if !strings.Contains(out, w) {
			t.Errorf("system prune does not say %q:\n%s", w, out)
		}
	}
	if ids := outLines(e.must("ps", "-a", "-q")); len(ids) > 0 {
		t.Errorf("containers after system prune: %q", ids)
	}
	e.checkNoLeftovers("after kill -9 of everything and system prune")
}

// kill9 kills a container's monitor and process with SIGKILL and waits
// until berth sees it exited.
func (e *netEnv) kill9(id string) {
	e.t.Helper()
	st := e.inspect(id).State
	if st.Pid <= 0 || st.MonitorPid <= 0 {
		e.t.Fatalf("container %s: pid %d, monitor %d", id, st.Pid, st.MonitorPid)
	}
	syscall.Kill(st.MonitorPid, syscall.SIGKILL)
	syscall.Kill(st.Pid, syscall.SIGKILL)
	waitUntil(e.t, "container "+id[:12]+" to be exited", func() bool { return e.inspect(id).State.Status == "exited" })
}
