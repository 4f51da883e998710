package integration

import (
	"encoding/json"

	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/berth-project/berth/internal/testenv"
	"github.com/berth-project/berth/test/kit"
)

// TestRootlessNetwork drives slirp4netns networking as an unprivileged user:
// the default network of a rootless engine, a container serving TCP
// (busybox httpd) reached through a port published on 127.0.0.1, the
// host's loopback out of the container's reach, the port kept across stop
// and start, and nothing left after rm: no slirp4netns process, no network
// namespace, no network.json.
func TestRootlessNetwork(t *testing.T) {
	testenv.RequiresRoot(t)
	testenv.RequiresBinary(t, "slirp4netns")
	tunForUsers(t)
	busybox := seedKit(t, kit.BusyboxImage(t, ""))
	b := newRootlessBerth(t)
	u := b.u
	b.must(t, "pull", busybox.ref)
	runRoot := filepath.Join(u.runDir, "berth")
	t.Cleanup(func() { b.run(t, "rm", "-f", "web") })

	t.Run("default", func(t *testing.T) {
		out := b.must(t, "run", "--rm", busybox.ref, "sh", "-c", "ls /sys/class/net; ip -4 -o addr show tap0; cat /etc/resolv.conf")
		for _, want := range []string{"lo", "tap0", "inet 10.0.2.100/24", "nameserver 10.0.2.3"} {
			if !strings.Contains(out, want) {
				t.Errorf("run without --network: %q, want %q (slirp4netns by default)", out, want)
			}
		}
	})

	port := freeLoopbackPort(t)
	id := strings.TrimSpace(b.must(t, "run", "-d", "--name", "web", "--network", "slirp4netns",
		"-p", "127.0.0.1:"+strconv.Itoa(port)+":80", busybox.ref,
		"sh", "-c", "mkdir -p /www && echo hello from slirp4netns > /www/index.html && exec httpd -f -p 80 -h /www"))
	url := "http://127.0.0.1:" + strconv.Itoa(port) + "/"

	t.Run("published port", func(t *testing.T) {
		if got := httpGetRetry(t, url); got != "hello from slirp4netns\n" {
			t.Errorf("GET %s: %q", url, got)
		}
		if out := b.must(t, "port", "web"); !strings.Contains(out, "80/tcp -> 127.0.0.1:"+strconv.Itoa(port)) {
			t.Errorf("port web: %q", out)
		}
		if out := b.must(t, "inspect", "--format", "{{.NetworkSettings.IPAddress}}", "web"); strings.TrimSpace(out) != "10.0.2.100" {
			t.Errorf("inspect IPAddress: %q", out)
		}
		pid := slirpPid(t, runRoot, id)
		if !processLive(pid) {
			t.Fatalf("slirp4netns %d does not run", pid)
		}
		if got := hostUIDOf(t, pid); got != u.uid {
			t.Errorf("slirp4netns runs as host uid %d, want the user's %d", got, u.uid)
		}
	})

	t.Run("no host loopback", func(t *testing.T) {
		// A server on the host's 127.0.0.1: the container's 10.0.2.2 is
		// the host, but not its loopback (--disable-host-loopback).
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		accepted := make(chan struct{}, 1)
		go func() {
			if c, err := l.Accept(); err == nil {
				c.Close()
				accepted <- struct{}{}
			}
		}()
		hp := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
		// The same command reaches the container's own server: nc works.
		if out := b.must(t, "exec", "web", "sh", "-c", "echo x | nc -w 2 127.0.0.1 80 >/dev/null && echo connected"); !strings.Contains(out, "connected") {
			t.Fatalf("nc to the container's own port 80: %q", out)
		}
		out, _, code := b.run(t, "exec", "web", "sh", "-c", "echo x | nc -w 2 10.0.2.2 "+hp+" && echo connected")
		if code == 0 && strings.Contains(out, "connected") {
			t.Errorf("the container reached the host's 127.0.0.1:%s through 10.0.2.2: %q", hp, out)
		}
		select {
		case <-accepted:
			t.Errorf("the host's 127.0.0.1:%s accepted a connection from the container", hp)
		case <-time.After(200 * time.Millisecond):
		}
	})

	t.Run("stop and start", func(t *testing.T) {
		first := slirpPid(t, runRoot, id)
		b.must(t, "stop", "-t", "1", "web")
		waitGone(t, first)
		// The monitor's exit command detaches a moment after stop returns.
		for i := 0; ; i++ {
			if _, err := os.Stat(filepath.Join(runRoot, "containers", id, "network.json")); err != nil {
				break
			}
			if i == 500 {
				t.Fatal("network.json left after stop")
			}
			time.Sleep(10 * time.Millisecond)
		}
		b.must(t, "start", "web")
		if got := httpGetRetry(t, url); got != "hello from slirp4netns\n" {
			t.Errorf("GET %s after a restart: %q", url, got)
		}
		if second := slirpPid(t, runRoot, id); second == first || !processLive(second) {
			t.Errorf("slirp4netns after start: pid %d (was %d)", second, first)
		}
	})

	t.Run("bad input", func(t *testing.T) {
		_, errs, code := b.run(t, "run", "-d", "--name", "web2", "-p", "127.0.0.1:"+strconv.Itoa(port)+":80", busybox.ref, "sleep", "100")
		if code == 0 || !strings.Contains(errs, strconv.Itoa(port)) {
			t.Errorf("a host port published by another container: exit %d: %s", code, errs)
		}
		b.run(t, "rm", "-f", "web2")
		_, errs, code = b.run(t, "run", "--rm", "--network", "pasta", busybox.ref, "true")
		if code == 0 || !strings.Contains(errs, "pasta") {
			t.Errorf("--network pasta: exit %d: %s", code, errs)
		}
		_, errs, code = b.run(t, "run", "--rm", "--network", "bridge", busybox.ref, "true")
		if code == 0 || !strings.Contains(errs, "slirp4netns") {
			t.Errorf("--network bridge, rootless: exit %d: %s", code, errs)
		}
	})

	last := slirpPid(t, runRoot, id)
	b.must(t, "rm", "-f", "web")
	waitGone(t, last)
	if _, err := http.Get(url); err == nil {
		t.Errorf("%s still answers after rm", url)
	}
	for _, dir := range []string{filepath.Join(runRoot, "netns"), filepath.Join(runRoot, "containers")} {
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("%s left after rm: %v", dir, entries)
		}
	}
	if pids := slirpProcessesUnder(u.home); len(pids) > 0 {
		t.Errorf("slirp4netns processes left: %v", pids)
	}
}

// tunForUsers makes /dev/net/tun readable and writable by every user for
// the test, as udev does on a stock Debian (slirp4netns opens it as the
// user; this host's node is 0600), and puts its mode back afterwards.
func tunForUsers(t *testing.T) {
	t.Helper()
	st, err := os.Stat("/dev/net/tun")
	if err != nil {
		t.Fatalf("slirp4netns needs /dev/net/tun: %v", err)
	}
	if st.Mode().Perm()&0o006 == 0o006 {
		return
	}
	if err := os.Chmod("/dev/net/tun", 0o666); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := os.Chmod("/dev/net/tun", st.Mode().Perm()); err != nil {
			t.Error(err)
		}
	})
}

// freeLoopbackPort is a TCP port free on 127.0.0.1 a moment ago.
func freeLoopbackPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// httpGetRetry GETs url until it answers (the server starts after the
// container) and returns the body.
func httpGetRetry(t *testing.T, url string) string {
	t.Helper()
	c := &http.Client{Timeout: 2 * time.Second}
	var last error
	for i := 0; i < 100; i++ {
		resp, err := c.Get(url)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			return string(b)
		}
		last = err
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("GET %s: %v", url, last)
	return ""
}

// slirpPid is the pid of container id's slirp4netns, from its network.json.
func slirpPid(t *testing.T, runRoot, id string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(runRoot, "containers", id, "network.json"))
	if err != nil {
		t.Fatalf("network.json of %s: %v", id, err)
	}
	var st struct {
		Slirp *struct {
			Pid int `json:"pid"`
		} `json:"slirp4netns"`
	}
	if err := json.Unmarshal(b, &st); err != nil || st.Slirp == nil || st.Slirp.Pid <= 0 {
		t.Fatalf("network.json of %s names no slirp4netns: %s (%v)", id, b, err)
	}
	return st.Slirp.Pid
}

// waitGone waits until pid is gone (or a zombie).
func waitGone(t *testing.T, pid int) {
	t.Helper()
	for i := 0; i < 500; i++ {
		if !processLive(pid) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Errorf("process %d still runs", pid)
}

// slirpProcessesUnder lists live slirp4netns processes whose command line
// names a path under dir.
func slirpProcessesUnder(dir string) []int {
	var out []int
	paths, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil || !strings.Contains(string(b), "slirp4netns") || !strings.Contains(string(b), dir+"/") {
			continue
		}
		pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(p)))
		if processLive(pid) {
			out = append(out, pid)
		}
	}
	return out
}
