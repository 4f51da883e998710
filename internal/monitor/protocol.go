package monitor

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// Attach packet kinds: the first byte of every packet on the attach
// socket (SOCK_SEQPACKET); the rest is the payload.
const (
	// Client → monitor.
	KindStdin      byte = 0 // bytes for the container's stdin
	KindCloseStdin byte = 4 // close the container's stdin (EOT on a terminal)
	KindResize     byte = 5 // terminal size, ASCII "<rows> <cols>"
	// Monitor → client.
	KindStdout byte = 1 // the container's stdout (everything, with a terminal)
	KindStderr byte = 2 // the container's stderr
	KindExit   byte = 3 // the process exited: ASCII exit code; the monitor closes the connection next
)

// MaxPacket is the largest attach packet: one byte of kind and 8 KiB of
// payload (the monitor reads the container's output 8 KiB at a time, as
// conmon does). Clients must read with a buffer this large.
const MaxPacket = 1 + chunkSize

// chunkSize is the most output read at once, so the most a log record or
// an attach packet carries.
const chunkSize = 8 << 10

// Request is a control request: one JSON packet on the control socket
// (SOCK_SEQPACKET), answered by one Reply packet.
type Request struct {
	// Op is "start" (start a container created with WaitStart), "stop"
	// (restart no more; answered once no restart is under way, so that a
	// runtime kill that follows hits the process that will be the last)
	// or "status".
	Op string `json:"op"`
}

// Reply answers a Request.
type Reply struct {
	Status string `json:"status,omitempty"` // the State.Status after the request
	Pid    int    `json:"pid,omitempty"`
	Error  string `json:"error,omitempty"`
	// Class is the errdefs class of Error ("not found", …), if it has one.
	Class string `json:"class,omitempty"`
}

// maxSocketPath is the longest path a unix socket address holds.
const maxSocketPath = 107

// socketAddr returns an address for the socket at path, and a directory
// to close once it has been used: a path too long for sun_path is reached
// as /proc/self/fd/<dir>/<name>.
func socketAddr(path string) (string, *os.File, error) {
	if len(path) <= maxSocketPath {
		return path, nil, nil
	}
	dir, err := os.OpenFile(filepath.Dir(path), unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return "", nil, fmt.Errorf("socket %s: %w", path, err)
	}
	short := "/proc/self/fd/" + strconv.Itoa(int(dir.Fd())) + "/" + filepath.Base(path)
	if len(short) > maxSocketPath {
		dir.Close()
		return "", nil, fmt.Errorf("socket %s: name too long", path)
	}
	return short, dir, nil
}

// listenPacket listens on a SOCK_SEQPACKET unix socket at path, replacing
// a stale one.
func listenPacket(path string) (*net.UnixListener, error) {
	addr, dir, err := socketAddr(path)
	if err != nil {
		return nil, err
	}
	if dir != nil {
		defer dir.Close()
	}
	_ = os.Remove(path)
	l, err := net.ListenUnix("unixpacket", &net.UnixAddr{Name: addr, Net: "unixpacket"})
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", path, err)
	}
	l.SetUnlinkOnClose(false) // the name may be a /proc path; the monitor removes path
	return l, nil
}

// dialPacket connects to the SOCK_SEQPACKET unix socket at path.
func dialPacket(path string) (*net.UnixConn, error) {
	addr, dir, err := socketAddr(path)
	if err != nil {
		return nil, err
	}
	if dir != nil {
		defer dir.Close()
	}
	c, err := net.DialUnix("unixpacket", nil, &net.UnixAddr{Name: addr, Net: "unixpacket"})
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", path, err)
	}
	return c, nil
}
