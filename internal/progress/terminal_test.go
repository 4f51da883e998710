package progress

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// openPTY returns both ends of a new pseudo-terminal of cols columns.
func openPTY(t *testing.T, cols uint16) (master, slave *os.File) {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("open /dev/ptmx: %v", err)
	}
	t.Cleanup(func() { master.Close() })
	if err := unix.IoctlSetPointerInt(int(master.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatalf("unlock pty: %v", err)
	}
	n, err := unix.IoctlGetInt(int(master.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatalf("pty number: %v", err)
	}
	slave, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("open pty %d: %v", n, err)
	}
	t.Cleanup(func() { slave.Close() })
	if err := unix.IoctlSetWinsize(int(slave.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 24, Col: cols}); err != nil {
		t.Fatalf("set pty size: %v", err)
	}
	return master, slave
}

// TestTerminalDetected writes to a real pseudo-terminal: the Display must
// see it, take its width, and redraw in place.
func TestTerminalDetected(t *testing.T) {
	master, slave := openPTY(t, 97)
	d := New(slave, Options{Interval: time.Hour})
	if !d.tty || d.columns() != 97 {
		t.Fatalf("on a pty of 97 columns: tty=%v columns=%d", d.tty, d.columns())
	}
	d.Update(digestA, Downloading, 1, 2)
	d.Update(digestA, PullComplete, 0, 0)
	d.Close()

	// Read back what the terminal got, up to the final frame's line.
	var got bytes.Buffer
	buf := make([]byte, 4096)
	want := "a1b2c3d4e5f6: Pull complete"
	if err := master.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	for !strings.Contains(got.String(), want) {
		n, err := master.Read(buf)
		if err != nil {
			t.Fatalf("read pty after %q: %v", got.String(), err)
		}
		got.Write(buf[:n])
	}
	if !strings.Contains(got.String(), "\x1b[1A") {
		t.Errorf("terminal output %q has no cursor-up: not redrawn in place", got.String())
	}

	// TTY: false wins over detection.
	if d := New(slave, Options{TTY: ptr(false)}); d.tty {
		t.Error("TTY: false was not obeyed")
	}
}

func TestNotTerminal(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	for _, out := range []io.Writer{w, (*os.File)(nil), &bytes.Buffer{}} {
		if d := New(out, Options{}); d.tty {
			t.Errorf("%T %v taken for a terminal", out, out)
		}
	}
}
