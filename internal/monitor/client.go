package monitor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/berth-project/berth/internal/errdefs"
)

// AttachConn is a client's connection to a monitor's attach socket.
type AttachConn struct {
	c   *net.UnixConn
	buf []byte
}

// Attach connects to the attach socket in socketDir (Config.SocketDir).
// A monitor that is gone is NotFound (no socket) or Unavailable.
func Attach(socketDir string) (*AttachConn, error) {
	c, err := dial(filepath.Join(socketDir, AttachSocket))
	if err != nil {
		return nil, err
	}
	return &AttachConn{c: c, buf: make([]byte, MaxPacket)}, nil
}

// Recv returns the next packet from the monitor: KindStdout or KindStderr
// with data, or KindExit with the exit code in data. io.EOF means the
// monitor hung up. data is valid until the next Recv.
func (a *AttachConn) Recv() (kind byte, data []byte, err error) {
	n, err := a.c.Read(a.buf)
	if err != nil {
		return 0, nil, err
	}
	if n == 0 {
		return 0, nil, io.EOF
	}
	return a.buf[0], a.buf[1:n], nil
}

// Copy writes the output to stdout and stderr until the process exits or
// the monitor hangs up, and returns the exit code (-1 when the monitor
// hung up without one).
func (a *AttachConn) Copy(stdout, stderr io.Writer) (int, error) {
	for {
		kind, data, err := a.Recv()
		if errors.Is(err, io.EOF) {
			return -1, nil
		}
		if err != nil {
			return -1, err
		}
		switch kind {
		case KindStdout:
			_, err = stdout.Write(data)
		case KindStderr:
			_, err = stderr.Write(data)
		case KindExit:
			code, _ := strconv.Atoi(string(data))
			return code, nil
		}
		if err != nil {
			return -1, err
		}
	}
}

// Write sends p to the container's stdin, in packets of at most 8 KiB.
func (a *AttachConn) Write(p []byte) (int, error) {
	done := 0
	pkt := make([]byte, 0, MaxPacket)
	for done < len(p) {
		n := min(len(p)-done, MaxPacket-1)
		pkt = append(append(pkt[:0], KindStdin), p[done:done+n]...)
		if _, err := a.c.Write(pkt); err != nil {
			return done, err
		}
		done += n
	}
	return done, nil
}

// CloseStdin closes the container's stdin (or sends EOT to its terminal).
func (a *AttachConn) CloseStdin() error {
	_, err := a.c.Write([]byte{KindCloseStdin})
	return err
}

// Resize sets the container's terminal size.
func (a *AttachConn) Resize(rows, cols uint16) error {
	_, err := a.c.Write(append([]byte{KindResize}, fmt.Sprintf("%d %d", rows, cols)...))
	return err
}

// SetDeadline bounds the connection's reads and writes.
func (a *AttachConn) SetDeadline(t time.Time) error { return a.c.SetDeadline(t) }

// Close hangs up.
func (a *AttachConn) Close() error { return a.c.Close() }

// Control sends one request to the control socket in socketDir and
// returns the reply; an error in the reply is returned as an error of its
// class, with the reply.
func Control(ctx context.Context, socketDir string, req Request) (Reply, error) {
	c, err := dial(filepath.Join(socketDir, ControlSocket))
	if err != nil {
		return Reply{}, err
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { _ = c.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	data, _ := json.Marshal(req)
	if _, err := c.Write(data); err != nil {
		return Reply{}, fmt.Errorf("control request %q: %w", req.Op, err)
	}
	buf := make([]byte, 64<<10)
	n, err := c.Read(buf)
	if err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return Reply{}, fmt.Errorf("control request %q: %w", req.Op, err)
	}
	var rep Reply
	if err := json.Unmarshal(buf[:n], &rep); err != nil {
		return Reply{}, fmt.Errorf("control request %q: bad reply: %w", req.Op, err)
	}
	if rep.Error != "" {
		return rep, classError(rep.Error, rep.Class)
	}
	return rep, nil
}

// Stop asks the monitor in socketDir to restart its container no more. It
// returns once no restart is under way, with the status then: the engine
// then stops a StatusRunning or StatusCreated container with the
// runtime's kill. A monitor that is gone is no error (Status
// StatusExited): it restarts nothing.
func Stop(ctx context.Context, socketDir string) (Reply, error) {
	rep, err := Control(ctx, socketDir, Request{Op: "stop"})
	if errdefs.IsNotFound(err) || errors.Is(err, errdefs.ErrUnavailable) {
		return Reply{Status: StatusExited}, nil
	}
	return rep, err
}

// Start asks the monitor in socketDir to start its container created with
// WaitStart, and returns its pid.
func Start(ctx context.Context, socketDir string) (int, error) {
	rep, err := Control(ctx, socketDir, Request{Op: "start"})
	return rep.Pid, err
}

// dial connects to a monitor socket, classing "no monitor" errors.
func dial(path string) (*net.UnixConn, error) {
	c, err := dialPacket(path)
	switch {
	case err == nil:
		return c, nil
	case errors.Is(err, syscall.ENOENT):
		return nil, fmt.Errorf("%w: %w", err, errdefs.ErrNotFound)
	case errors.Is(err, syscall.ECONNREFUSED):
		return nil, fmt.Errorf("%w: %w", err, errdefs.ErrUnavailable)
	}
	return nil, err
}
