package network

import (
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/berth-project/berth/internal/errdefs"
)

func TestParsePublish(t *testing.T) {
	for in, want := range map[string]PublishSpec{
		"80":                    {"", PortRange{}, PortRange{80, 80}, "tcp"},
		"8080:80":               {"", PortRange{8080, 8080}, PortRange{80, 80}, "tcp"},
		"127.0.0.1:8080:80/udp": {"127.0.0.1", PortRange{8080, 8080}, PortRange{80, 80}, "udp"},
		"127.0.0.1::80":         {"127.0.0.1", PortRange{}, PortRange{80, 80}, "tcp"},
		"8000-8010:80-90/TCP":   {"", PortRange{8000, 8010}, PortRange{80, 90}, "tcp"},
		"8000-8010:80":          {"", PortRange{8000, 8010}, PortRange{80, 80}, "tcp"},
		"[::1]:8080:80/sctp":    {"::1", PortRange{8080, 8080}, PortRange{80, 80}, "sctp"},
		"53-54/udp":             {"", PortRange{}, PortRange{53, 54}, "udp"},
	} {
		got, err := ParsePublish(in)
		if err != nil || got != want {
			t.Errorf("ParsePublish(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0", "70000", "80/icmp", "a:80", "1.2.3:80:80", "8000-8002:80-81", "90-80", "::1:80:80", "[::1]80", "1:2:3:4", "8080:"} {
		if _, err := ParsePublish(in); !errdefs.IsInvalidArgument(err) {
			t.Errorf("ParsePublish(%q) = %v, want an invalid argument", in, err)
		}
	}
}

func TestResolveChoosesAndChecks(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	busy := uint16(l.Addr().(*net.TCPAddr).Port)

	spec, _ := ParsePublish("127.0.0.1::80")
	ms, err := Resolve([]PublishSpec{spec})
	if err != nil || len(ms) != 1 || ms[0].HostPort == 0 || ms[0].HostIP != "127.0.0.1" || ms[0].ContainerPort != 80 {
		t.Fatalf("Resolve: %+v, %v", ms, err)
	}

	// A fixed port that is taken: a clear error naming it.
	spec, _ = ParsePublish("127.0.0.1:" + strconv.Itoa(int(busy)) + ":80")
	_, err = Resolve([]PublishSpec{spec})
	if !errdefs.IsAlreadyExists(err) || !strings.Contains(err.Error(), "127.0.0.1:"+strconv.Itoa(int(busy))+"/tcp") {
		t.Fatalf("busy port: %v", err)
	}
	// On every address too, since 127.0.0.1 is one of them.
	spec, _ = ParsePublish(strconv.Itoa(int(busy)) + ":80")
	if _, err = Resolve([]PublishSpec{spec}); !errdefs.IsAlreadyExists(err) {
		t.Fatalf("busy port on every address: %v", err)
	}
	// UDP on the same number is free.
	spec, _ = ParsePublish("127.0.0.1:" + strconv.Itoa(int(busy)) + ":80/udp")
	if _, err = Resolve([]PublishSpec{spec}); err != nil {
		t.Fatalf("udp beside tcp: %v", err)
	}
	// A host range for one container port skips the busy one.
	spec, _ = ParsePublish("127.0.0.1:" + strconv.Itoa(int(busy)) + "-" + strconv.Itoa(int(busy)+1) + ":80")
	if ms, err = Resolve([]PublishSpec{spec}); err == nil && ms[0].HostPort != busy+1 {
		t.Fatalf("range: %+v", ms)
	}
	// Twice the same host port.
	a, _ := ParsePublish("127.0.0.1:40001:80")
	b, _ := ParsePublish("40001:81")
	if _, err = Resolve([]PublishSpec{a, b}); !errdefs.IsAlreadyExists(err) {
		t.Fatalf("duplicate: %v", err)
	}
}

func TestPublishAll(t *testing.T) {
	ms, err := PublishAll([]string{"80/tcp", "53/udp", "8080"}, "127.0.0.1")
	if err != nil || len(ms) != 3 {
		t.Fatalf("PublishAll: %+v, %v", ms, err)
	}
	for i, want := range []PortMapping{{"127.0.0.1", 0, 80, "tcp"}, {"127.0.0.1", 0, 53, "udp"}, {"127.0.0.1", 0, 8080, "tcp"}} {
		got := ms[i]
		if got.HostPort == 0 || got.ContainerPort != want.ContainerPort || got.Protocol != want.Protocol || got.HostIP != want.HostIP {
			t.Errorf("mapping %d: %+v", i, got)
		}
	}
	if _, err := PublishAll([]string{"1:80"}, ""); !errdefs.IsInvalidArgument(err) {
		t.Fatalf("bad exposed port: %v", err)
	}
}

func TestConflicts(t *testing.T) {
	others := []PortMapping{{"127.0.0.1", 8080, 80, "tcp"}}
	if err := Conflicts([]PortMapping{{"", 8080, 81, "tcp"}}, others); !errdefs.IsAlreadyExists(err) {
		t.Fatalf("every address vs 127.0.0.1: %v", err)
	}
	if err := Conflicts([]PortMapping{{"10.0.0.1", 8080, 81, "tcp"}, {"", 8080, 81, "udp"}}, others); err != nil {
		t.Fatalf("other address, other protocol: %v", err)
	}
}
