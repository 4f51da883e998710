package monitor

import (
	"encoding/json"
	"net"
	"os"
)

// ctlCall is a control request on its way to the monitor's main loop.
type ctlCall struct {
	req   Request
	reply chan Reply
}

// controlServer serves the control socket: one Request and one Reply per
// connection. Requests are answered by the main loop, in its own time
// (a "stop" during a restart waits for the restart to finish).
type controlServer struct {
	path  string
	l     *net.UnixListener
	calls chan<- ctlCall
	// done is closed when the main loop ends; final answers from then on.
	done  <-chan struct{}
	final func() Reply
}

func newControlServer(path string, calls chan<- ctlCall, done <-chan struct{}, final func() Reply) (*controlServer, error) {
	l, err := listenPacket(path)
	if err != nil {
		return nil, err
	}
	s := &controlServer{path: path, l: l, calls: calls, done: done, final: final}
	go s.serve()
	return s, nil
}

func (s *controlServer) serve() {
	for {
		c, err := s.l.AcceptUnix()
		if err != nil {
			return
		}
		go s.handle(c)
	}
}

func (s *controlServer) handle(c *net.UnixConn) {
	defer c.Close()
	buf := make([]byte, 4096)
	n, err := c.Read(buf)
	if err != nil {
		return
	}
	var rep Reply
	var req Request
	if err := json.Unmarshal(buf[:n], &req); err != nil {
		rep = Reply{Error: "bad control request: " + err.Error(), Class: "invalid argument"}
	} else {
		rep = s.ask(req)
	}
	data, _ := json.Marshal(rep)
	_, _ = c.Write(data)
}

func (s *controlServer) ask(req Request) Reply {
	call := ctlCall{req: req, reply: make(chan Reply, 1)}
	select {
	case s.calls <- call:
	case <-s.done:
		return s.final()
	}
	select {
	case rep := <-call.reply:
		return rep
	case <-s.done:
		return s.final()
	}
}

func (s *controlServer) close() {
	s.l.Close()
	_ = os.Remove(s.path)
}
