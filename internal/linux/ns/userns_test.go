package ns

import (
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
)

// TestInUserNamespace checks the answer in this process and, through a
// child in a new user namespace that reads its own uid map, the rule the
// answer follows.
func TestInUserNamespace(t *testing.T) {
	b, err := os.ReadFile("/proc/self/uid_map")
	if err != nil {
		t.Skip("no user namespaces:", err)
	}
	host := strings.Join(strings.Fields(string(b)), " ") == "0 0 4294967295"
	if got := InUserNamespace(); got == host {
		t.Errorf("InUserNamespace() = %v with uid map %q", got, b)
	}
	cmd := exec.Command("cat", "/proc/self/uid_map")
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:  syscall.CLONE_NEWUSER,
		UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Geteuid(), Size: 1}},
		GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getegid(), Size: 1}},
	}
	out, err := cmd.Output()
	if err != nil {
		t.Skip("cannot make a user namespace:", err)
	}
	if f := strings.Fields(string(out)); len(f) != 3 || f[2] != "1" {
		t.Errorf("uid map in a new user namespace = %q, want one id", out)
	}
}
