package network

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/errdefs"
)

// User-mode networking for a rootless engine: a slirp4netns process gives
// a network namespace a tap device (tap0, 10.0.2.100/24, gateway and host
// 10.0.2.2, DNS 10.0.2.3) and carries its traffic through sockets of the
// user's own in the host's network namespace — no bridge, veth or iptables
// rule, none of which an unprivileged user may make. Published ports are
// the process's own listening sockets, added through its API socket
// (add_hostfwd). The process lives as long as the attachment: StartSlirp
// at the container's start, StopSlirp when it is done.
//
//	s, err := network.StartSlirp(ctx, network.SlirpConfig{
//		NetNS: "/run/user/1000/berth/netns/<id>", APISocket: runDir + "/slirp4netns.sock",
//		Log: runDir + "/slirp4netns.log"})
//	err = network.SlirpHostFwd(s.APISocket, network.PortMapping{HostIP: "127.0.0.1", HostPort: 8080, ContainerPort: 80, Protocol: "tcp"})
//	// … 127.0.0.1:8080 reaches the container's port 80 …
//	err = network.StopSlirp(s.Pid, s.NetNS)

// Slirp4netns's fixed addresses (its --configure defaults).
var (
	SlirpIP      = netip.MustParsePrefix("10.0.2.100/24") // the container's
	SlirpGateway = netip.MustParseAddr("10.0.2.2")        // the host, as the container sees it
	SlirpDNS     = netip.MustParseAddr("10.0.2.3")        // slirp4netns's DNS forwarder
)

// SlirpInterface is the tap device inside the namespace.
const SlirpInterface = "tap0"

// SlirpConfig says how to start slirp4netns for one network namespace.
type SlirpConfig struct {
	// Binary is the slirp4netns program ("slirp4netns" in $PATH when empty).
	Binary string
	// NetNS is the namespace's bind-mounted path.
	NetNS string
	// APISocket is the path of its API socket (for published ports).
	APISocket string
	// Log receives its output (the file is truncated); empty discards it.
	Log string
}

// Slirp is a running slirp4netns.
type Slirp struct {
	Pid       int    `json:"pid"`
	NetNS     string `json:"netns"`
	APISocket string `json:"apiSocket"`
}

// SlirpBinary finds slirp4netns in $PATH (errdefs.ErrNotFound naming the
// Debian package when it is missing) and checks that the caller may open
// the tap device it needs (errdefs.ErrFailedPrecondition).
func SlirpBinary() (string, error) {
	p, err := exec.LookPath("slirp4netns")
	if err != nil {
		return "", fmt.Errorf("slirp4netns not found in $PATH (apt-get install slirp4netns): %w", errdefs.ErrNotFound)
	}
	// slirp4netns opens the tap device as the caller: as an unprivileged
	// user it needs the node world-writable (udev's mode for it on Debian).
	if err := unix.Access("/dev/net/tun", unix.R_OK|unix.W_OK); err != nil {
		return "", fmt.Errorf("slirp4netns: /dev/net/tun: %v (it must be readable and writable by the user: mode 0666, as udev makes it): %w", err, errdefs.ErrFailedPrecondition)
	}
	return p, nil
}

// StartSlirp starts slirp4netns on cfg.NetNS, in a session of its own so
// that it outlives the caller, and returns once it has configured tap0
// (its --ready-fd). It runs with --disable-host-loopback (the container
// cannot reach the host's 127.0.0.1 through 10.0.2.2), a seccomp filter
// (--enable-seccomp) and an MTU of 65520 (the speed of user-mode
// networking is per packet). On error nothing is left.
func StartSlirp(ctx context.Context, cfg SlirpConfig) (Slirp, error) {
	bin := cfg.Binary
	if bin == "" {
		var err error
		if bin, err = SlirpBinary(); err != nil {
			return Slirp{}, err
		}
	}
	_ = os.Remove(cfg.APISocket) // a socket file a killed run left
	ready, readyW, err := os.Pipe()
	if err != nil {
		return Slirp{}, err
	}
	defer ready.Close()
	out := io.Writer(nil)
	if cfg.Log != "" {
		f, err := os.OpenFile(cfg.Log, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			readyW.Close()
			return Slirp{}, err
		}
		defer f.Close()
		out = f
	}
	// No --enable-sandbox: slirp4netns 1.2 makes only its root mount
	// private before it pivots and lets go of the old root, so the
	// unmounts reach the peers of shared mounts below it — run by root it
	// took network namespaces bound under /run/netns from the host.
	cmd := exec.Command(bin, "--configure", "--mtu=65520", "--disable-host-loopback",
		"--enable-seccomp", "--api-socket", filepath.Base(cfg.APISocket), "--ready-fd=3",
		"--netns-type=path", cfg.NetNS, SlirpInterface)
	// The socket is made relative to its directory: a run directory's
	// path may be too long for a socket address (108 bytes).
	cmd.Dir = filepath.Dir(cfg.APISocket)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.ExtraFiles = []*os.File{readyW}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		readyW.Close()
		return Slirp{}, fmt.Errorf("slirp4netns for %s: %w", cfg.NetNS, err)
	}
	readyW.Close()
	s := Slirp{Pid: cmd.Process.Pid, NetNS: cfg.NetNS, APISocket: cfg.APISocket}
	got := make(chan error, 1)
	go func() {
		b := make([]byte, 1)
		_, err := io.ReadFull(ready, b)
		if err == nil && b[0] != '1' {
			err = fmt.Errorf("ready fd said %q", b)
		}
		got <- err
	}()
	fail := func(why error) (Slirp, error) {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		_ = os.Remove(cfg.APISocket)
		msg := ""
		if cfg.Log != "" {
			if b, err := os.ReadFile(cfg.Log); err == nil {
				msg = ": " + lastLine(b)
			}
		}
		return Slirp{}, fmt.Errorf("slirp4netns for %s: %v%s: %w", cfg.NetNS, why, msg, errdefs.ErrFailedPrecondition)
	}
	select {
	case err := <-got:
		if err != nil {
			return fail(fmt.Errorf("exited before it was ready (%v)", err))
		}
	case <-time.After(10 * time.Second):
		return fail(errors.New("not ready after 10s"))
	case <-ctx.Done():
		return fail(ctx.Err())
	}
	// Released, not waited for: the process is the session leader of a
	// session of its own and outlives this one (its parent becomes the
	// nearest subreaper, which reaps it when StopSlirp ends it).
	_ = cmd.Process.Release()
	return s, nil
}

// SlirpHostFwd publishes a port through slirp4netns's API socket: it
// listens on the host side (HostIP, or every address when empty) and
// forwards to the container's port at SlirpIP. A host port taken is
// errdefs.ErrAlreadyExists.
func SlirpHostFwd(apiSocket string, m PortMapping) error {
	if m.Protocol != "tcp" && m.Protocol != "udp" {
		return fmt.Errorf("port mapping %s: slirp4netns forwards tcp and udp only: %w", m, errdefs.ErrInvalidArgument)
	}
	host := m.HostIP
	if host == "" {
		host = "0.0.0.0"
	}
	req := map[string]any{"execute": "add_hostfwd", "arguments": map[string]any{
		"proto": m.Protocol, "host_addr": host, "host_port": m.HostPort,
		"guest_addr": SlirpIP.Addr().String(), "guest_port": m.ContainerPort,
	}}
	var reply struct {
		Error *struct {
			Desc string `json:"desc"`
		} `json:"error"`
	}
	if err := slirpAPI(apiSocket, req, &reply); err != nil {
		return fmt.Errorf("port mapping %s: %w", m, err)
	}
	if reply.Error != nil {
		// libslirp says only that it failed; what fails is the bind of
		// the host's side.
		return fmt.Errorf("port mapping %s: slirp4netns: %s (the host port is taken or may not be bound): %w", m, reply.Error.Desc, errdefs.ErrAlreadyExists)
	}
	return nil
}

// slirpAPI sends one request on the API socket and decodes its reply. A
// path too long for a socket address is reached as
// /proc/self/fd/<its directory>/<name>.
func slirpAPI(socket string, req, reply any) error {
	addr := socket
	if len(addr) >= 108 {
		dir, err := os.Open(filepath.Dir(socket))
		if err != nil {
			return fmt.Errorf("slirp4netns api %s: %w", socket, err)
		}
		defer dir.Close()
		addr = "/proc/self/fd/" + strconv.Itoa(int(dir.Fd())) + "/" + filepath.Base(socket)
	}
	c, err := net.DialTimeout("unix", addr, 5*time.Second)
	if err != nil {
		return fmt.Errorf("slirp4netns api %s: %w", socket, err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	b, err := json.Marshal(req)
	if err != nil {
		return err
	}
	if _, err := c.Write(b); err != nil {
		return fmt.Errorf("slirp4netns api %s: %w", socket, err)
	}
	if uc, ok := c.(*net.UnixConn); ok {
		_ = uc.CloseWrite()
	}
	resp, err := io.ReadAll(c)
	if err != nil {
		return fmt.Errorf("slirp4netns api %s: %w", socket, err)
	}
	if err := json.Unmarshal(bytes.TrimSpace(resp), reply); err != nil {
		return fmt.Errorf("slirp4netns api %s: reply %q: %w", socket, resp, err)
	}
	return nil
}

// StopSlirp ends the slirp4netns of netnsPath with pid (SIGTERM, SIGKILL
// after 2 s) and waits until it is gone, its sockets closed; a pid that is
// gone, or that is no longer that slirp4netns (its command line does not
// name netnsPath), is left alone. Its API socket is removed by the caller
// with the run directory.
func StopSlirp(pid int, netnsPath string) error {
	if pid <= 0 || !isSlirpOf(pid, netnsPath) {
		return nil
	}
	_, start := procStat(pid)
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		if errors.Is(err, syscall.ESRCH) {
			return nil
		}
		return fmt.Errorf("stop slirp4netns %d: %w", pid, err)
	}
	deadline := time.Now().Add(2 * time.Second)
	for {
		// A process that is exiting has let go of its memory (its command
		// line reads empty) before its files: it is gone once it is a
		// zombie, or reaped.
		state, st := procStat(pid)
		if state == 0 || state == 'Z' || state == 'X' || st != start {
			return nil
		}
		if time.Now().After(deadline) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			deadline = time.Now().Add(5 * time.Second)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// procStat is the state and start time of pid (0 and "" when it is gone).
func procStat(pid int) (state byte, start string) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, ""
	}
	i := bytes.LastIndexByte(b, ')') // the command name may hold anything
	if i < 0 || i+2 >= len(b) {
		return 0, ""
	}
	f := strings.Fields(string(b[i+2:])) // f[0] is field 3, the state
	if len(f) < 20 {
		return 0, ""
	}
	return f[0][0], f[19] // field 22: start time
}

// isSlirpOf reports whether pid is a live slirp4netns whose command line
// names netnsPath.
func isSlirpOf(pid int, netnsPath string) bool {
	cmdline, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil || len(cmdline) == 0 { // gone, exiting or a zombie
		return false
	}
	args := strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")
	if !strings.HasSuffix(args[0], "slirp4netns") {
		return false
	}
	for _, a := range args {
		if a == netnsPath {
			return true
		}
	}
	return false
}

// lastLine is the last non-empty line of b that is no warning.
func lastLine(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if l := strings.TrimSpace(lines[i]); l != "" && !strings.HasPrefix(l, "WARNING:") {
			return l
		}
	}
	return ""
}
