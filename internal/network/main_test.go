package network

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/vishvananda/netlink"

	"github.com/berth-project/berth/internal/linux/netns"
	"github.com/berth-project/berth/internal/linux/ns"
	"github.com/berth-project/berth/internal/testenv"
)

var (
	pluginOnce sync.Once
	pluginPath string
	pluginErr  error
	buildDir   string
	netSeq     atomic.Int32
)

func TestMain(m *testing.M) {
	forward, _ := os.ReadFile("/proc/sys/net/ipv4/ip_forward")
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	// The bridge plugin turns forwarding on for the whole host: give back
	// what the host had.
	if len(forward) > 0 && os.Geteuid() == 0 {
		_ = os.WriteFile("/proc/sys/net/ipv4/ip_forward", forward, 0o644)
	}
	os.Exit(code)
}

// plugins is a directory with the CNI plugins: $BERTH_BIN_DIR/cni (make
// build), or built from the module cache into a temporary directory.
func plugins(t *testing.T) string {
	t.Helper()
	pluginOnce.Do(func() {
		if d := os.Getenv("BERTH_BIN_DIR"); d != "" {
			if _, err := os.Stat(filepath.Join(d, "cni", "bridge")); err == nil {
				pluginPath = filepath.Join(d, "cni")
				return
			}
		}
		buildDir, pluginErr = os.MkdirTemp("", "berth-cni-")
		if pluginErr != nil {
			return
		}
		pluginPath = buildDir
		for _, p := range []string{"ipam/host-local", "main/bridge", "main/loopback", "meta/firewall", "meta/portmap", "meta/tuning"} {
			cmd := exec.Command("go", "build", "-o", filepath.Join(buildDir, filepath.Base(p)), "github.com/containernetworking/plugins/plugins/"+p)
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
			if out, err := cmd.CombinedOutput(); err != nil {
				pluginErr = fmt.Errorf("build %s: %v: %s", p, err, out)
				return
			}
		}
	})
	if pluginErr != nil {
		t.Fatal(pluginErr)
	}
	return pluginPath
}

// rootEnv skips (or fails, strict) without root and iptables.
func rootEnv(t *testing.T) {
	t.Helper()
	testenv.RequiresRoot(t)
	testenv.RequiresBinary(t, "iptables-save")
	testenv.RequiresBinary(t, "iptables-restore")
}

// testNet is a network of the test's own: a unique name and bridge, and a
// /24 of 10.250.0.0/16 that nothing on the host uses (or the bits given).
func testNet(t *testing.T, bits int) Network {
	t.Helper()
	seq := int(netSeq.Add(1))
	third := (os.Getpid()*7 + seq*13) % 250
	n := Network{
		Name:   fmt.Sprintf("bt%d-%d", os.Getpid()%100000, seq),
		ID:     newID(),
		Driver: DriverBridge,
		Bridge: fmt.Sprintf("bt%d-%d", os.Getpid()%10000, seq),
		Subnet: netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 250, byte(third), 0}), bits),
	}
	n.Gateway = n.Subnet.Addr().Next()
	routes, err := HostRoutes()
	if err != nil {
		t.Fatal(err)
	}
	if c := conflict(n.Subnet, Occupied{Routes: routes}); c != "" {
		t.Fatalf("test subnet %s overlaps %s", n.Subnet, c)
	}
	return n
}

// newManager is a Manager with its own state directory.
func newManager(t *testing.T) *Manager {
	t.Helper()
	m, err := New(Config{PluginDirs: []string{plugins(t)}, StateDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// newNetns makes a network namespace removed at the end of the test.
func newNetns(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("/run", "berth-nettest-")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "ns")
	if err := netns.New(path); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := netns.Remove(path); err != nil {
			t.Error(err)
		}
		os.Remove(dir)
	})
	return path
}

// inNetns runs fn on a thread inside the namespace at path. Sockets made
// there stay in that namespace wherever they are used later.
func inNetns(t *testing.T, path string, fn func() error) {
	t.Helper()
	kind, err := ns.Lookup(specs.NetworkNamespace)
	if err != nil {
		t.Fatal(err)
	}
	if err := ns.JoinAndRun([]ns.Join{{Kind: kind, Path: path}}, fn); err != nil {
		t.Fatal(err)
	}
}

// cleanNetwork detaches nothing but removes the test network's bridge and
// rules at the end of the test.
func cleanNetwork(t *testing.T, m *Manager, n Network) {
	t.Cleanup(func() {
		if err := m.RemoveNetwork(n); err != nil {
			t.Errorf("remove network: %v", err)
		}
		if _, err := netlink.LinkByName(n.Bridge); err == nil {
			t.Errorf("bridge %s left", n.Bridge)
		}
	})
}

var counters = regexp.MustCompile(`\[\d+:\d+\]`)

// iptablesState is iptables-save of nat and filter without comments and
// counters: what the plugins changed.
func iptablesState(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	for _, table := range []string{"nat", "filter"} {
		out, err := exec.Command("iptables-save", "-t", table).Output()
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(string(out), "\n") {
			if !strings.HasPrefix(l, "#") {
				b.WriteString(counters.ReplaceAllString(l, "") + "\n")
			}
		}
	}
	return b.String()
}

// mustAttach attaches and registers nothing: the test detaches.
func mustAttach(t *testing.T, m *Manager, n Network, id, path string, opts Options) Result {
	t.Helper()
	res, err := m.Attach(context.Background(), n, id, path, "eth0", opts)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// bridgeVeths lists the interfaces enslaved to the bridge.
func bridgeVeths(t *testing.T, bridge string) []string {
	t.Helper()
	br, err := netlink.LinkByName(bridge)
	if err != nil {
		return nil
	}
	links, err := netlink.LinkList()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range links {
		if l.Attrs().MasterIndex == br.Attrs().Index {
			out = append(out, l.Attrs().Name)
		}
	}
	return out
}

// assertClean checks that nothing of the manager's attachments is left:
// no veth on the bridge, no lease, no cached result, iptables as before.
func assertClean(t *testing.T, m *Manager, n Network, before string) {
	t.Helper()
	if v := bridgeVeths(t, n.Bridge); len(v) > 0 {
		t.Errorf("veths left on %s: %v", n.Bridge, v)
	}
	if ls, _ := m.Leases(n.Name); len(ls) > 0 {
		t.Errorf("leases left: %+v", ls)
	}
	if ents, _ := os.ReadDir(filepath.Join(m.state, "cache", "results")); len(ents) > 0 {
		t.Errorf("cached results left: %d", len(ents))
	}
	// Other processes on the host (other tests, other berth roots) change
	// iptables meanwhile: compare the lines that name this network — its
	// bridge, its subnet, its name in the plugins' comments.
	if b, a := ofNetwork(before, n), ofNetwork(iptablesState(t), n); a != b {
		t.Errorf("iptables rules of %s changed:\n--- before\n%s\n--- after\n%s", n.Name, b, a)
	}
}

// ofNetwork keeps the lines of an iptablesState that name n.
func ofNetwork(state string, n Network) string {
	subnet := strings.TrimSuffix(n.Subnet.Masked().Addr().String(), "0")
	var b strings.Builder
	for _, l := range strings.Split(state, "\n") {
		if strings.Contains(l, n.Bridge) || strings.Contains(l, `"`+n.Name+`"`) || strings.Contains(l, subnet) {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}
