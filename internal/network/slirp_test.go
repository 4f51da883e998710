package network

import (
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/linux/ns"
	"github.com/berth-project/berth/internal/testenv"
)

// listenIn listens on TCP addr inside the network namespace at path; the
// socket stays in that namespace.
func listenIn(t *testing.T, path, addr string) net.Listener {
	t.Helper()
	kind, err := ns.Lookup("network")
	if err != nil {
		t.Fatal(err)
	}
	var l net.Listener
	if err := ns.JoinAndRun([]ns.Join{{Kind: kind, Path: path}}, func() (err error) {
		l, err = net.Listen("tcp", addr)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// dialFrom dials addr from inside the network namespace at path.
func dialFrom(path, addr string) error {
	kind, err := ns.Lookup("network")
	if err != nil {
		return err
	}
	return ns.JoinAndRun([]ns.Join{{Kind: kind, Path: path}}, func() error {
		c, err := net.DialTimeout("tcp", addr, 2*time.Second)
		if err == nil {
			c.Close()
		}
		return err
	})
}

func TestSlirp(t *testing.T) {
	testenv.RequiresRoot(t)
	testenv.RequiresBinary(t, "slirp4netns")
	path := newNetns(t)
	dir := t.TempDir()
	// A directory whose socket path is too long for a socket address.
	long := filepath.Join(dir, "a-directory-with-a-name-long-enough-to-take-the-socket-path-past-108-bytes-"+strconv.Itoa(os.Getpid()))
	if err := os.Mkdir(long, 0o700); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(long, "slirp.sock")
	s, err := StartSlirp(context.Background(), SlirpConfig{NetNS: path, APISocket: sock, Log: filepath.Join(dir, "log")})
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			StopSlirp(s.Pid, path)
		}
	})
	if !isSlirpOf(s.Pid, path) {
		t.Fatalf("pid %d is not slirp4netns of %s", s.Pid, path)
	}

	// A server in the namespace, reached through a published port.
	l := listenIn(t, path, ":80")
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			io.WriteString(c, "hello from the namespace\n")
			c.Close()
		}
	}()
	probe, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := probe.Addr().(*net.TCPAddr).Port
	probe.Close()
	if err := SlirpHostFwd(sock, PortMapping{HostIP: "127.0.0.1", HostPort: uint16(port), ContainerPort: 80, Protocol: "tcp"}); err != nil {
		t.Fatal(err)
	}
	c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(c)
	c.Close()
	if string(got) != "hello from the namespace\n" {
		t.Errorf("through the published port: %q", got)
	}
	// The same port again: taken.
	err = SlirpHostFwd(sock, PortMapping{HostIP: "127.0.0.1", HostPort: uint16(port), ContainerPort: 81, Protocol: "tcp"})
	if !errdefs.IsAlreadyExists(err) {
		t.Errorf("a port taken: %v, want already exists", err)
	}
	if err := SlirpHostFwd(sock, PortMapping{HostPort: 1, ContainerPort: 1, Protocol: "sctp"}); !errdefs.IsInvalidArgument(err) {
		t.Errorf("sctp: %v, want invalid argument", err)
	}

	// The host's loopback is out of reach through the gateway.
	host, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer host.Close()
	hp := strconv.Itoa(host.Addr().(*net.TCPAddr).Port)
	if err := dialFrom(path, net.JoinHostPort(SlirpGateway.String(), hp)); err == nil {
		t.Errorf("the namespace reached the host's 127.0.0.1:%s through %s", hp, SlirpGateway)
	}

	if err := StopSlirp(s.Pid, path); err != nil {
		t.Fatal(err)
	}
	stopped = true
	if isSlirpOf(s.Pid, path) {
		t.Errorf("slirp4netns %d still runs", s.Pid)
	}
	if _, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), time.Second); err == nil {
		t.Error("the published port still answers after StopSlirp")
	}
	// Stopping again, or a pid that is not slirp4netns, does nothing.
	if err := StopSlirp(s.Pid, path); err != nil {
		t.Error(err)
	}
	if err := StopSlirp(os.Getpid(), path); err != nil {
		t.Error(err)
	}
}

func TestSlirpStartFails(t *testing.T) {
	testenv.RequiresRoot(t)
	testenv.RequiresBinary(t, "slirp4netns")
	dir := t.TempDir()
	_, err := StartSlirp(context.Background(), SlirpConfig{NetNS: filepath.Join(dir, "no-such-netns"), APISocket: filepath.Join(dir, "s.sock"), Log: filepath.Join(dir, "log")})
	if !errdefs.IsFailedPrecondition(err) {
		t.Fatalf("start on a missing namespace: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "s.sock")); err == nil {
		t.Error("api socket left")
	}
}
