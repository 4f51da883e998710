package runtime

import (
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/linux/pty"
)

// catchSignals holds every signal the runtime gets from now on, for
// forward to pass on. Call it before the process may run: a signal sent to
// the runtime in between would otherwise kill it (SIGTERM's default), not
// reach the process.
func catchSignals() chan os.Signal {
	sigs := make(chan os.Signal, 64)
	signal.Notify(sigs)
	return sigs
}

// forward waits for a process the runtime started and stays with it:
// signals the runtime gets (on sigs, from catchSignals) are forwarded to it,
// and with a terminal its pty master is joined to the runtime's stdio (in
// raw mode when stdin is a terminal). It returns the exit code as a shell
// would (128+n for signal n).
func forward(sp *spawn, console *os.File, sigs chan os.Signal) int {
	defer signal.Stop(sigs)

	var copied sync.WaitGroup
	if console != nil {
		if pty.IsTerminal(os.Stdin) {
			if restore, err := pty.MakeRaw(os.Stdin); err == nil {
				defer restore()
			}
			_ = pty.CopySize(os.Stdin, console)
		}
		go func() { _, _ = io.Copy(console, os.Stdin) }()
		copied.Add(1)
		go func() {
			defer copied.Done()
			_, _ = io.Copy(os.Stdout, console)
		}()
	}
	done := make(chan struct{})
	var code int
	go func() {
		code = sp.wait()
		close(done)
	}()
	for {
		select {
		case s := <-sigs:
			sig := s.(unix.Signal)
			switch sig {
			case unix.SIGCHLD, unix.SIGURG, unix.SIGPIPE:
				// ours: the child's exit, Go's preemption, a closed pipe
			case unix.SIGWINCH:
				if console != nil {
					_ = pty.CopySize(os.Stdin, console)
				}
			default:
				_ = unix.Kill(sp.pid, sig)
			}
		case <-done:
			if console != nil {
				copied.Wait()
				console.Close()
			}
			return code
		}
	}
}

func exitCode(st *os.ProcessState) int {
	if st == nil {
		return 255
	}
	// os.ProcessState carries a syscall.WaitStatus, not a unix.WaitStatus.
	if ws, ok := st.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return st.ExitCode()
}
