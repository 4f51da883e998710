package ociruntime

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
)

// maxSocketPath is the longest path a unix socket address holds (sun_path
// less its terminating NUL).
const maxSocketPath = 107

// ConsoleSocket is the receiving end of --console-socket: a listening unix
// socket to which the runtime connects, when the process has a terminal,
// to send one message whose ancillary data (SCM_RIGHTS) carries the pty
// master. Give Path to Create or Exec, then Receive the master.
type ConsoleSocket struct {
	path string
	dir  string // a directory of our own to remove, or ""
	l    *net.UnixListener
}

// NewConsoleSocket listens at path; an empty path makes one in a new
// directory under os.TempDir(). A path longer than a socket address can
// hold (107 bytes) is an error.
func NewConsoleSocket(path string) (*ConsoleSocket, error) {
	s := &ConsoleSocket{path: path}
	if path == "" {
		dir, err := os.MkdirTemp("", "berth-console-")
		if err != nil {
			return nil, fmt.Errorf("console socket: %w", err)
		}
		s.dir, s.path = dir, filepath.Join(dir, "console.sock")
	}
	if len(s.path) > maxSocketPath {
		return nil, fmt.Errorf("console socket %s: path longer than %d bytes: %w", s.path, maxSocketPath, errInvalid)
	}
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: s.path, Net: "unix"})
	if err != nil {
		s.removeDir()
		return nil, fmt.Errorf("console socket %s: %w", s.path, err)
	}
	l.SetUnlinkOnClose(true)
	s.l = l
	return s, nil
}

// Path returns the socket's path, for --console-socket.
func (s *ConsoleSocket) Path() string { return s.path }

// Receive accepts the runtime's connection and returns the pty master it
// sends, in non-blocking mode (its reads and writes use Go's poller). It
// fails when ctx ends first.
func (s *ConsoleSocket) Receive(ctx context.Context) (*os.File, error) {
	stop := context.AfterFunc(ctx, func() { _ = s.l.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	conn, err := s.l.AcceptUnix()
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("console socket %s: %w", s.path, ctx.Err())
		}
		return nil, fmt.Errorf("console socket %s: accept: %w", s.path, err)
	}
	defer conn.Close()
	stopConn := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stopConn()
	name := make([]byte, 4096)
	oob := make([]byte, unix.CmsgSpace(4*4))
	n, oobn, _, _, err := conn.ReadMsgUnix(name, oob)
	if err != nil {
		return nil, fmt.Errorf("console socket %s: receive: %w", s.path, err)
	}
	fds, err := parseRights(oob[:oobn])
	if err != nil {
		return nil, fmt.Errorf("console socket %s: %w", s.path, err)
	}
	for _, fd := range fds[1:] {
		unix.Close(fd)
	}
	fd := fds[0]
	unix.CloseOnExec(fd)
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("console socket %s: %w", s.path, err)
	}
	label := string(name[:n])
	if label == "" {
		label = "pty master"
	}
	return os.NewFile(uintptr(fd), label), nil
}

func parseRights(oob []byte) ([]int, error) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return nil, fmt.Errorf("parse control message: %w", err)
	}
	var fds []int
	for i := range msgs {
		got, err := unix.ParseUnixRights(&msgs[i])
		if err == nil {
			fds = append(fds, got...)
		}
	}
	if len(fds) == 0 {
		return nil, errors.New("the runtime sent no file descriptor")
	}
	return fds, nil
}

// Close stops listening and removes the socket (and its directory when
// NewConsoleSocket made one).
func (s *ConsoleSocket) Close() error {
	err := s.l.Close()
	s.removeDir()
	return err
}

func (s *ConsoleSocket) removeDir() {
	if s.dir != "" {
		_ = os.RemoveAll(s.dir)
	}
}
