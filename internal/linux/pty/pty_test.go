package pty

import (
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// open returns a new pty's master and its slave opened read-write; both are
// closed when the test ends.
func open(t *testing.T) (master, slave *os.File, name string) {
	t.Helper()
	master, name, err := Open("/dev/ptmx")
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { master.Close() })
	slave, err = os.OpenFile(name, os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("open slave %s: %v", name, err)
	}
	t.Cleanup(func() { slave.Close() })
	return master, slave, name
}

func readN(t *testing.T, f *os.File, n int) string {
	t.Helper()
	buf := make([]byte, n)
	if _, err := io.ReadFull(f, buf); err != nil {
		t.Fatalf("read %s: %v", f.Name(), err)
	}
	return string(buf)
}

func TestOpen(t *testing.T) {
	master, slave, name := open(t)
	if !strings.HasPrefix(name, "/dev/pts/") {
		t.Errorf("slave path %q is not under /dev/pts", name)
	}
	var st unix.Stat_t
	if err := unix.Stat(name, &st); err != nil {
		t.Fatal(err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFCHR {
		t.Errorf("%s is not a character device (mode %o)", name, st.Mode)
	}
	// The master's TIOCGPTN names the same device.
	n, err := unix.IoctlGetUint32(int(master.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	if want := "/dev/pts/" + strconv.FormatUint(uint64(n), 10); name != want {
		t.Errorf("slave path %q, want %q (TIOCGPTN)", name, want)
	}
	// The pair is connected: the slave reads what the master writes.
	if _, err := master.WriteString("hello\n"); err != nil {
		t.Fatal(err)
	}
	if got := readN(t, slave, 6); got != "hello\n" {
		t.Errorf("slave read %q, want %q", got, "hello\n")
	}
	// The master's fd does not leak into children.
	flags, err := unix.FcntlInt(master.Fd(), unix.F_GETFD, 0)
	if err != nil || flags&unix.FD_CLOEXEC == 0 {
		t.Errorf("master fd flags %#x, %v: want FD_CLOEXEC", flags, err)
	}
}

func TestOpenMissing(t *testing.T) {
	_, _, err := Open(filepath.Join(t.TempDir(), "ptmx"))
	if err == nil || !strings.Contains(err.Error(), "ptmx") {
		t.Errorf("Open of a missing ptmx = %v, want an error naming it", err)
	}
}

func socketpair(t *testing.T) (a, b *os.File) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	a, b = os.NewFile(uintptr(fds[0]), "a"), os.NewFile(uintptr(fds[1]), "b")
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

func TestSendRecvFd(t *testing.T) {
	master, slave, _ := open(t)
	a, b := socketpair(t)
	if err := SendFd(a, master); err != nil {
		t.Fatalf("SendFd: %v", err)
	}
	got, err := RecvFd(b)
	if err != nil {
		t.Fatalf("RecvFd: %v", err)
	}
	defer got.Close()
	if got.Name() != master.Name() {
		t.Errorf("received name %q, want %q", got.Name(), master.Name())
	}
	if got.Fd() == master.Fd() {
		t.Errorf("received the same fd number %d, want a new descriptor", got.Fd())
	}
	// The received fd is the same pty master.
	if _, err := got.WriteString("via socket\n"); err != nil {
		t.Fatal(err)
	}
	if s := readN(t, slave, 11); s != "via socket\n" {
		t.Errorf("slave read %q", s)
	}
	flags, err := unix.FcntlInt(got.Fd(), unix.F_GETFD, 0)
	if err != nil || flags&unix.FD_CLOEXEC == 0 {
		t.Errorf("received fd flags %#x, %v: want FD_CLOEXEC", flags, err)
	}
}

func TestRecvFdWithoutFd(t *testing.T) {
	a, b := socketpair(t)
	if _, err := a.WriteString("no fd"); err != nil {
		t.Fatal(err)
	}
	if f, err := RecvFd(b); err == nil {
		f.Close()
		t.Errorf("RecvFd of a message without a file descriptor succeeded")
	}
}

func TestMakeRaw(t *testing.T) {
	master, slave, _ := open(t)
	before, err := unix.IoctlGetTermios(int(slave.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	if before.Lflag&unix.ICANON == 0 || before.Oflag&unix.OPOST == 0 {
		t.Fatalf("a new pty is not in cooked mode: %+v", before)
	}
	// Cooked: the slave's "\n" reaches the master as "\r\n".
	if _, err := slave.WriteString("a\n"); err != nil {
		t.Fatal(err)
	}
	if got := readN(t, master, 3); got != "a\r\n" {
		t.Errorf("cooked output %q, want %q", got, "a\r\n")
	}

	restore, err := MakeRaw(slave)
	if err != nil {
		t.Fatalf("MakeRaw: %v", err)
	}
	raw, err := unix.IoctlGetTermios(int(slave.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	if raw.Lflag&(unix.ECHO|unix.ECHONL|unix.ICANON|unix.ISIG|unix.IEXTEN) != 0 {
		t.Errorf("raw lflag %#x keeps echo/canonical/signals", raw.Lflag)
	}
	if raw.Iflag&(unix.IGNBRK|unix.BRKINT|unix.PARMRK|unix.ISTRIP|unix.INLCR|unix.IGNCR|unix.ICRNL|unix.IXON) != 0 {
		t.Errorf("raw iflag %#x keeps input processing", raw.Iflag)
	}
	if raw.Oflag&unix.OPOST != 0 {
		t.Errorf("raw oflag %#x keeps OPOST", raw.Oflag)
	}
	if raw.Cflag&unix.CSIZE != unix.CS8 || raw.Cflag&unix.PARENB != 0 {
		t.Errorf("raw cflag %#x, want CS8 without parity", raw.Cflag)
	}
	if raw.Cc[unix.VMIN] != 1 || raw.Cc[unix.VTIME] != 0 {
		t.Errorf("raw VMIN %d VTIME %d, want 1 0", raw.Cc[unix.VMIN], raw.Cc[unix.VTIME])
	}
	// Raw: "\n" passes unchanged.
	if _, err := slave.WriteString("b\n"); err != nil {
		t.Fatal(err)
	}
	if got := readN(t, master, 2); got != "b\n" {
		t.Errorf("raw output %q, want %q", got, "b\n")
	}

	restore()
	after, err := unix.IoctlGetTermios(int(slave.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	if *after != *before {
		t.Errorf("restored termios %+v, want %+v", *after, *before)
	}
}

func TestMakeRawNotATerminal(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "file")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := MakeRaw(f); err == nil {
		t.Errorf("MakeRaw of a regular file succeeded")
	}
}

func TestIsTerminal(t *testing.T) {
	master, slave, _ := open(t)
	if !IsTerminal(master) || !IsTerminal(slave) {
		t.Errorf("IsTerminal(master) = %v, IsTerminal(slave) = %v, want true", IsTerminal(master), IsTerminal(slave))
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	f, err := os.CreateTemp(t.TempDir(), "file")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, nt := range []*os.File{r, w, f} {
		if IsTerminal(nt) {
			t.Errorf("IsTerminal(%s) = true", nt.Name())
		}
	}
}

func TestCopySize(t *testing.T) {
	from, _, _ := open(t)
	to, _, _ := open(t)
	want := &unix.Winsize{Row: 42, Col: 137}
	if err := unix.IoctlSetWinsize(int(from.Fd()), unix.TIOCSWINSZ, want); err != nil {
		t.Fatal(err)
	}
	if err := CopySize(from, to); err != nil {
		t.Fatalf("CopySize: %v", err)
	}
	got, err := unix.IoctlGetWinsize(int(to.Fd()), unix.TIOCGWINSZ)
	if err != nil {
		t.Fatal(err)
	}
	if got.Row != want.Row || got.Col != want.Col {
		t.Errorf("copied size %dx%d, want %dx%d", got.Row, got.Col, want.Row, want.Col)
	}
}
