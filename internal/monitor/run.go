package monitor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/ociruntime"
)

// run is one life of the container's process, from create to exit.
type run struct {
	pid     int
	exited  <-chan syscall.WaitStatus
	outputs []*os.File // read ends (or the pty master)
	drained chan struct{}
	// lastRead is when output last came (Unix ns), for drain.
	lastRead   atomic.Int64
	health     context.CancelFunc
	healthDone chan struct{}
}

// consoleTimeout bounds the wait for the pty master of a created
// container (the runtime sends it before create returns).
const consoleTimeout = 30 * time.Second

// create has the runtime create the container with fresh stdio: pipes the
// monitor reads, or a pty whose master the runtime sends.
func (m *monitor) create(ctx context.Context) (err error) {
	cfg := m.cfg
	pidPath := filepath.Join(cfg.RunDir, ContainerPid)
	_ = os.Remove(pidPath)
	opts := ociruntime.CreateOpts{PidFile: pidPath}
	r := &run{drained: make(chan struct{})}
	r.lastRead.Store(time.Now().UnixNano())
	var theirs []*os.File // the container's ends, closed once it has them
	var stdin *os.File
	defer func() {
		for _, f := range theirs {
			f.Close()
		}
		if err != nil {
			for _, f := range r.outputs {
				f.Close()
			}
			if stdin != nil {
				stdin.Close()
			}
		}
	}()
	var console *ociruntime.ConsoleSocket
	if m.terminal {
		path := filepath.Join(cfg.RunDir, "console.sock")
		if len(path) > maxSocketPath {
			path = "" // a directory of its own under $TMPDIR
		}
		if console, err = ociruntime.NewConsoleSocket(path); err != nil {
			return err
		}
		defer console.Close()
		opts.ConsoleSocket = console.Path()
	} else {
		if cfg.Stdin {
			pr, pw, err := os.Pipe()
			if err != nil {
				return fmt.Errorf("stdin pipe: %w", err)
			}
			theirs, stdin, opts.Stdin = append(theirs, pr), pw, pr
		}
		for _, w := range []**os.File{&opts.Stdout, &opts.Stderr} {
			pr, pw, err := os.Pipe()
			if err != nil {
				return fmt.Errorf("output pipe: %w", err)
			}
			theirs, r.outputs, *w = append(theirs, pw), append(r.outputs, pr), pw
		}
	}
	if err := m.rt.Create(ctx, cfg.ID, cfg.Bundle, opts); err != nil {
		if len(r.outputs) == 2 {
			for _, f := range theirs {
				f.Close()
			}
			theirs = nil
			err = withStderr(err, r.outputs[1])
		}
		return err
	}
	r.pid, err = readPid(pidPath)
	if err != nil {
		st, serr := m.rt.State(ctx, cfg.ID)
		if serr != nil {
			_ = m.rt.Delete(ctx, cfg.ID, true)
			return fmt.Errorf("pid of the created container: %v; %w", err, serr)
		}
		r.pid = st.Pid
	}
	r.exited = m.reaper.watch(r.pid)
	var master *os.File
	if console != nil {
		cctx, cancel := context.WithTimeout(ctx, consoleTimeout)
		master, err = console.Receive(cctx)
		cancel()
		if err != nil {
			if derr := m.rt.Delete(ctx, cfg.ID, true); derr != nil {
				m.logf("remove the container: %v", derr)
			}
			m.endRun(r, true)
			return err
		}
		r.outputs = []*os.File{master}
		if cfg.Stdin {
			stdin = master
		}
	}
	m.cur = r
	m.ioMu.Lock()
	m.stdin, m.master = stdin, master
	m.ioMu.Unlock()
	m.readOutput(r)
	m.mu.Lock()
	m.state.Status, m.state.Pid, m.state.Error = StatusCreated, r.pid, ""
	m.mu.Unlock()
	m.writeState()
	return nil
}

// start starts the created container and its health checks.
func (m *monitor) start(ctx context.Context) error {
	if err := m.rt.Start(ctx, m.cfg.ID); err != nil {
		return err
	}
	m.mu.Lock()
	m.state.Status, m.state.StartedAt = StatusRunning, time.Now()
	m.mu.Unlock()
	m.writeState()
	if m.cfg.Health != nil {
		hctx, cancel := context.WithCancel(ctx)
		m.cur.health, m.cur.healthDone = cancel, make(chan struct{})
		go m.healthLoop(hctx, m.cur.healthDone)
	}
	return nil
}

// endRun stops r's health checks, lets its output drain (for drainGrace at
// most) and closes its streams. With kill, r's process is being removed:
// its exit is awaited (and reaped) before anything else.
func (m *monitor) endRun(r *run, kill bool) {
	if r == nil {
		return
	}
	if kill && r.exited != nil {
		select {
		case <-r.exited:
		case <-time.After(drainGrace):
			m.logf("process %d did not exit", r.pid)
			m.reaper.forget(r.pid)
		}
	}
	if r.health != nil {
		r.health()
		<-r.healthDone
	}
	m.ioMu.Lock()
	if m.stdin != nil && m.stdin != m.master {
		m.stdin.Close()
	}
	m.stdin, m.master = nil, nil
	m.ioMu.Unlock()
	m.drain(r)
}

// drain waits for r's outputs to reach their end, and closes them. Output
// may flow for as long as it flows; once none came for drainGrace after
// the exit, the pipes are closed (a process outside the container's pid
// namespace may hold them open for ever).
func (m *monitor) drain(r *run) {
	if len(r.outputs) == 0 {
		return
	}
	tick := time.NewTicker(drainGrace / 4)
	defer tick.Stop()
	for idle := false; !idle; {
		select {
		case <-r.drained:
			idle = true
		case <-tick.C:
			if time.Since(time.Unix(0, r.lastRead.Load())) > drainGrace {
				m.logf("output still open %v after the last read: closed", drainGrace)
				idle = true
			}
		}
	}
	for _, f := range r.outputs {
		f.Close()
	}
	<-r.drained
}

// readOutput starts a reader per output of r: each chunk goes to the log
// and to attach clients; r.drained closes when all reached their end.
func (m *monitor) readOutput(r *run) {
	if len(r.outputs) == 0 {
		close(r.drained)
		return
	}
	left := make(chan struct{}, len(r.outputs))
	for i, f := range r.outputs {
		kind, stream := KindStdout, streamStdout
		if i == 1 {
			kind, stream = KindStderr, streamStderr
		}
		go func() {
			m.copyOutput(r, f, kind, stream)
			left <- struct{}{}
		}()
	}
	go func() {
		for range r.outputs {
			<-left
		}
		close(r.drained)
	}()
}

func (m *monitor) copyOutput(r *run, f *os.File, kind byte, stream string) {
	buf := make([]byte, MaxPacket)
	buf[0] = kind
	for {
		n, err := f.Read(buf[1:])
		if n > 0 {
			r.lastRead.Store(time.Now().UnixNano())
			m.log.Write(stream, buf[1:1+n], time.Now())
			m.attach.send(buf[:1+n])
		}
		if err != nil {
			// EOF, or EIO from a pty master whose slave is gone.
			if !errors.Is(err, io.EOF) && !errors.Is(err, syscall.EIO) && !errors.Is(err, os.ErrClosed) {
				m.logf("read container %s: %v", stream, err)
			}
			return
		}
	}
}

// input handles an attach client's packet.
func (m *monitor) input(kind byte, p []byte) {
	if !m.cfg.Stdin {
		if kind == KindResize {
			m.resize(p)
		}
		return
	}
	m.ioMu.Lock()
	w := m.stdin
	m.ioMu.Unlock()
	switch kind {
	case KindStdin:
		if w != nil {
			_, _ = w.Write(p)
		}
	case KindCloseStdin:
		if m.terminal {
			if w != nil {
				_, _ = w.Write([]byte{4}) // EOT: end of input on a terminal
			}
			return
		}
		m.ioMu.Lock()
		if m.stdin == w && w != nil {
			w.Close()
			m.stdin = nil
		}
		m.ioMu.Unlock()
	case KindResize:
		m.resize(p)
	}
}

// resize sets the pty's window size from "<rows> <cols>".
func (m *monitor) resize(p []byte) {
	if !m.terminal {
		return
	}
	rows, cols, ok := strings.Cut(string(p), " ")
	r, err1 := strconv.ParseUint(rows, 10, 16)
	c, err2 := strconv.ParseUint(cols, 10, 16)
	if !ok || err1 != nil || err2 != nil {
		return
	}
	m.ioMu.Lock()
	defer m.ioMu.Unlock()
	if m.master == nil {
		return
	}
	rc, err := m.master.SyscallConn()
	if err != nil {
		return
	}
	_ = rc.Control(func(fd uintptr) {
		_ = unix.IoctlSetWinsize(int(fd), unix.TIOCSWINSZ, &unix.Winsize{Row: uint16(r), Col: uint16(c)})
	})
}

// withStderr completes a create error that has nothing but an exit
// status with what the runtime wrote on its stderr: the container's
// stderr pipe, whose writers are all gone once create failed.
func withStderr(err error, stderr *os.File) error {
	var rerr *ociruntime.Error
	if !errors.As(err, &rerr) || !strings.HasPrefix(rerr.Message, "exit status") {
		return err
	}
	_ = stderr.SetReadDeadline(time.Now().Add(drainGrace))
	data, _ := io.ReadAll(io.LimitReader(stderr, 4096))
	msg := strings.TrimSpace(string(data))
	if msg == "" {
		return err
	}
	if i := strings.LastIndexByte(msg, '\n'); i >= 0 {
		msg = msg[i+1:]
	}
	e := *rerr
	e.Message, e.Class = msg, ociruntime.Classify(msg)
	return &e
}

// readPid reads a pid file.
func readPid(path string) (int, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	pid, err := strconv.Atoi(string(bytes.TrimSpace(data)))
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("pid file %s: %q is no pid", path, data)
	}
	return pid, nil
}
