package netns

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/testenv"
)

func TestNewRemove(t *testing.T) {
	testenv.RequiresRoot(t)
	path := filepath.Join(t.TempDir(), "netns", "c1")
	if err := New(path); err != nil {
		t.Fatal(err)
	}
	if err := New(path); !errdefs.IsAlreadyExists(err) {
		t.Fatalf("second New: %v", err)
	}
	host, _ := os.Readlink("/proc/self/ns/net")
	// nsenter is util-linux's; every Debian has it.
	out, err := exec.Command("nsenter", "--net="+path, "cat", "/proc/net/dev").CombinedOutput()
	if err != nil {
		t.Fatalf("enter %s: %v: %s", path, err, out)
	}
	if strings.Count(string(out), ":") != 1 || !strings.Contains(string(out), "lo:") {
		t.Fatalf("a new namespace has only lo, got:\n%s", out)
	}
	// /proc/net/route lists nothing for a down lo; "ip" shows its flags.
	link, err := exec.Command("nsenter", "--net="+path, "ip", "-o", "link", "show", "lo").CombinedOutput()
	if err != nil || !strings.Contains(string(link), ",UP") {
		t.Fatalf("lo is not up: %s %v", link, err)
	}
	if now, _ := os.Readlink("/proc/self/ns/net"); now != host {
		t.Fatal("New moved the calling process into the new namespace")
	}
	if err := Remove(path); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("%s is still there: %v", path, err)
	}
	if err := Remove(path); err != nil {
		t.Fatalf("Remove of a removed namespace: %v", err)
	}
}
