package engine

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/berth-project/berth/internal/network"
)

func TestResolvConf(t *testing.T) {
	host := []byte("# generated\nnameserver 127.0.0.53\nnameserver 10.0.0.2\nsearch corp.example\noptions edns0\n")
	for _, tc := range []struct {
		name        string
		n           ContainerNet
		hostNetwork bool
		want        string
	}{
		{"host's without loopback", ContainerNet{}, false, "# generated\nnameserver 10.0.0.2\nsearch corp.example\noptions edns0\n"},
		{"host network keeps loopback", ContainerNet{}, true, string(host)},
		{"--dns replaces nameservers", ContainerNet{DNS: []string{"10.9.9.9", "10.9.9.8"}}, false,
			"# generated\nsearch corp.example\noptions edns0\nnameserver 10.9.9.9\nnameserver 10.9.9.8\n"},
		{"--dns-search . drops search", ContainerNet{DNSSearch: []string{"."}}, false, "# generated\nnameserver 10.0.0.2\noptions edns0\n"},
		{"--dns-search and --dns-option", ContainerNet{DNSSearch: []string{"a.test", "b.test"}, DNSOptions: []string{"ndots:2", "rotate"}}, false,
			"# generated\nnameserver 10.0.0.2\nsearch a.test b.test\noptions ndots:2 rotate\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(resolvConf(host, tc.n, tc.hostNetwork)); got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

func TestParseAddHost(t *testing.T) {
	for s, want := range map[string]addHost{
		"db:10.1.2.3":     {Name: "db", IP: netip.MustParseAddr("10.1.2.3")},
		"db=10.1.2.3":     {Name: "db", IP: netip.MustParseAddr("10.1.2.3")},
		"v6:[::1]":        {Name: "v6", IP: netip.MustParseAddr("::1")},
		"v6:fd00::1":      {Name: "v6", IP: netip.MustParseAddr("fd00::1")},
		"gw:host-gateway": {Name: "gw", HostGateway: true},
	} {
		got, err := parseAddHost(s)
		if err != nil || got != want {
			t.Errorf("parseAddHost(%q) = %+v, %v; want %+v", s, got, err, want)
		}
	}
	for _, bad := range []string{"nocolon", ":10.0.0.1", "db:notanip", "a b:10.0.0.1"} {
		if _, err := parseAddHost(bad); err == nil {
			t.Errorf("parseAddHost(%q): no error", bad)
		}
	}
}

// TestHostsFor: the container's own line, --add-host (host-gateway
// resolved), and peers on its user networks only.
func TestHostsFor(t *testing.T) {
	def := network.Network{Name: network.DefaultName, ID: "d"}
	web := network.Network{Name: "web", ID: "w"}
	other := network.Network{Name: "other", ID: "o"}
	att := func(n network.Network, ip string, aliases ...string) netAttachment {
		p := netip.MustParsePrefix(ip)
		return netAttachment{Network: n, Result: network.Result{IPs: []netip.Prefix{p}, Gateway: p.Masked().Addr().Next(), Aliases: aliases}}
	}
	c := Container{ID: strings.Repeat("a", 64), Name: "c1", Config: ContainerConfig{Hostname: "host1"},
		Net: ContainerNet{AddHosts: []string{"extra:10.9.0.1", "gw:host-gateway"}}}
	st := netState{Attachments: []netAttachment{att(def, "10.88.0.2/16"), att(web, "10.89.0.2/24", "api")}}
	peer := attachedContainer{c: Container{ID: strings.Repeat("b", 64), Name: "db"}, st: netState{Attachments: []netAttachment{att(web, "10.89.0.3/24", "database")}}}
	stranger := attachedContainer{c: Container{ID: strings.Repeat("c", 64), Name: "far"}, st: netState{Attachments: []netAttachment{att(other, "10.90.0.3/24"), att(def, "10.88.0.9/16")}}}
	got := string(hostsFor(c, st, []attachedContainer{{c: c, st: st}, peer, stranger}))
	for _, want := range []string{
		"10.9.0.1\textra\n", "10.88.0.1\tgw\n", "10.88.0.2\thost1\n", "10.89.0.2\tc1 api\n",
		"10.89.0.3\tdb database bbbbbbbbbbbb\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("hosts lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "far") {
		t.Errorf("hosts names a container that shares only the default network:\n%s", got)
	}
	if !strings.HasPrefix(got, "127.0.0.1\tlocalhost\n") {
		t.Errorf("hosts does not start with localhost:\n%s", got)
	}
	// Before an attachment: the hostname on 127.0.1.1, host-gateway waits.
	got = string(hostsFor(c, netState{}, nil))
	if !strings.Contains(got, "127.0.1.1\thost1\n") || strings.Contains(got, "\tgw\n") {
		t.Errorf("hosts before the start:\n%s", got)
	}
}

func TestUnpublished(t *testing.T) {
	ms := []network.PortMapping{{HostPort: 8080, ContainerPort: 80, Protocol: "tcp"}}
	got := unpublished([]string{"80/tcp", "80/udp", "443/tcp", "53"}, ms)
	if want := []string{"80/udp", "443/tcp", "53"}; !slices.Equal(got, want) {
		t.Errorf("unpublished = %q, want %q", got, want)
	}
}

func TestCNINetwork(t *testing.T) {
	n := network.Network{Name: "web", ID: strings.Repeat("1", 64)}
	if got := (&Engine{cfg: Config{Root: DefaultRoot}}).cniNetwork(n); got.Name != "web" {
		t.Errorf("the default root's CNI name: %q", got.Name)
	}
	a := (&Engine{cfg: Config{Root: "/tmp/a"}}).cniNetwork(n)
	b := (&Engine{cfg: Config{Root: "/tmp/b"}}).cniNetwork(n)
	if a.Name == b.Name || !strings.HasPrefix(a.Name, "web.") || network.ValidateName(a.Name) != nil {
		t.Errorf("CNI names of two roots: %q, %q", a.Name, b.Name)
	}
	long := network.Network{Name: strings.Repeat("x", 64)}
	if got := (&Engine{cfg: Config{Root: "/tmp/a"}}).cniNetwork(long); network.ValidateName(got.Name) != nil {
		t.Errorf("CNI name of a 64-character name: %q", got.Name)
	}
}
