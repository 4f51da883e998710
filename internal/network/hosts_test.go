package network

import (
	"net/netip"
	"os"
	"path/filepath"
	"testing"
)

func TestRenderHosts(t *testing.T) {
	got := string(RenderHosts(Hosts{
		Extra: []HostEntry{{netip.MustParseAddr("192.0.2.9"), []string{"registry"}}},
		Self:  []HostEntry{{netip.MustParseAddr("10.89.0.2"), []string{"c1abc", "web", "api"}}},
		Peers: []HostEntry{
			{netip.MustParseAddr("10.89.0.3"), []string{"db", "registry", "postgres"}},
			{netip.MustParseAddr("10.89.0.4"), []string{"web"}}, // name taken by self: dropped
			{netip.MustParseAddr("10.89.0.5"), []string{"bad name", ""}},
		},
	}))
	want := "127.0.0.1\tlocalhost\n" +
		"::1\tlocalhost ip6-localhost ip6-loopback\n" +
		"fe00::0\tip6-localnet\n" +
		"ff00::0\tip6-mcastprefix\n" +
		"ff02::1\tip6-allnodes\n" +
		"ff02::2\tip6-allrouters\n" +
		"192.0.2.9\tregistry\n" +
		"10.89.0.2\tc1abc web api\n" +
		"10.89.0.3\tdb postgres\n"
	if got != want {
		t.Fatalf("hosts:\n%s\nwant:\n%s", got, want)
	}
}

func TestWriteHostsKeepsInode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hosts")
	if err := WriteHosts(path, []byte("a long first content\n")); err != nil {
		t.Fatal(err)
	}
	before, _ := os.Stat(path)
	if err := WriteHosts(path, []byte("short\n")); err != nil {
		t.Fatal(err)
	}
	after, _ := os.Stat(path)
	b, _ := os.ReadFile(path)
	if string(b) != "short\n" || !os.SameFile(before, after) {
		t.Fatalf("content %q, same file %v", b, os.SameFile(before, after))
	}
}
