package monitor

import (
	"net"
	"os"
	"sync"
	"time"
)

// attachTimeout is how long an attach client may keep the container's
// output waiting before it is dropped (a stopped `berth attach` must not
// stop the container's logging).
const attachTimeout = 10 * time.Second

// attachServer serves the attach socket: every client gets the output
// live, as packets of KindStdout/KindStderr, and a KindExit packet when
// the process exits; its packets (KindStdin, KindCloseStdin, KindResize)
// go to input.
type attachServer struct {
	path    string
	l       *net.UnixListener
	input   func(kind byte, payload []byte)
	mu      sync.Mutex
	clients map[*net.UnixConn]bool
}

func newAttachServer(path string, input func(byte, []byte)) (*attachServer, error) {
	l, err := listenPacket(path)
	if err != nil {
		return nil, err
	}
	s := &attachServer{path: path, l: l, input: input, clients: map[*net.UnixConn]bool{}}
	go s.serve()
	return s, nil
}

func (s *attachServer) serve() {
	for {
		c, err := s.l.AcceptUnix()
		if err != nil {
			return // closed
		}
		s.mu.Lock()
		s.clients[c] = true
		s.mu.Unlock()
		go s.read(c)
	}
}

// read passes a client's packets to input until it hangs up.
func (s *attachServer) read(c *net.UnixConn) {
	buf := make([]byte, MaxPacket)
	for {
		n, err := c.Read(buf)
		if err != nil || n == 0 {
			s.drop(c)
			return
		}
		s.input(buf[0], buf[1:n])
	}
}

func (s *attachServer) drop(c *net.UnixConn) {
	s.mu.Lock()
	delete(s.clients, c)
	s.mu.Unlock()
	c.Close()
}

// send writes packet to every client; a client that cannot take it in
// attachTimeout is dropped.
func (s *attachServer) send(packet []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.clients {
		_ = c.SetWriteDeadline(time.Now().Add(attachTimeout))
		if _, err := c.Write(packet); err != nil {
			delete(s.clients, c)
			c.Close()
		}
	}
}

// exit tells every client the exit code and hangs up on them.
func (s *attachServer) exit(code int) {
	s.send(append([]byte{KindExit}, itoa(code)...))
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.clients {
		delete(s.clients, c)
		c.Close()
	}
}

// close stops serving and removes the socket.
func (s *attachServer) close() {
	s.l.Close()
	s.mu.Lock()
	for c := range s.clients {
		c.Close()
	}
	s.clients = map[*net.UnixConn]bool{}
	s.mu.Unlock()
	_ = os.Remove(s.path)
}
