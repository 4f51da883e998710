package idmap

import (
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// A newline left by the JSON that preceded the message on the stream is
// skipped, and the file arrives.
func TestSendReceive(t *testing.T) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	a, b := os.NewFile(uintptr(fds[0]), "a"), os.NewFile(uintptr(fds[1]), "b")
	defer a.Close()
	defer b.Close()
	f, err := os.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := a.Write([]byte("\n")); err != nil {
		t.Fatal(err)
	}
	if err := Send(a, f, "/data"); err != nil {
		t.Fatal(err)
	}
	got, name, err := Receive(b)
	if err != nil {
		t.Fatal(err)
	}
	defer got.Close()
	if name != "/data" {
		t.Errorf("name %q, want /data", name)
	}
	var st1, st2 unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st1); err != nil {
		t.Fatal(err)
	}
	if err := unix.Fstat(int(got.Fd()), &st2); err != nil {
		t.Fatal(err)
	}
	if st1.Ino != st2.Ino || st1.Dev != st2.Dev {
		t.Errorf("received a different file")
	}
}
