package ns

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/testenv"
)

func TestLookup(t *testing.T) {
	for _, tc := range []struct {
		typ  specs.LinuxNamespaceType
		flag uintptr
		proc string
	}{
		{specs.UserNamespace, unix.CLONE_NEWUSER, "user"},
		{specs.IPCNamespace, unix.CLONE_NEWIPC, "ipc"},
		{specs.UTSNamespace, unix.CLONE_NEWUTS, "uts"},
		{specs.NetworkNamespace, unix.CLONE_NEWNET, "net"},
		{specs.PIDNamespace, unix.CLONE_NEWPID, "pid"},
		{specs.CgroupNamespace, unix.CLONE_NEWCGROUP, "cgroup"},
		{specs.TimeNamespace, unix.CLONE_NEWTIME, "time"},
		{specs.MountNamespace, unix.CLONE_NEWNS, "mnt"},
	} {
		k, err := Lookup(tc.typ)
		if err != nil {
			t.Errorf("Lookup(%q): %v", tc.typ, err)
			continue
		}
		if k.Type != tc.typ || k.Flag != tc.flag || k.ProcName != tc.proc {
			t.Errorf("Lookup(%q) = %+v, want flag %#x and /proc name %q", tc.typ, k, tc.flag, tc.proc)
		}
		// The /proc name is the one the kernel uses.
		if _, err := os.Lstat("/proc/self/ns/" + k.ProcName); err != nil {
			t.Errorf("namespace %q: %v", tc.typ, err)
		}
	}
	_, err := Lookup("bogus")
	if !errors.Is(err, errdefs.ErrInvalidArgument) || !strings.Contains(err.Error(), `"bogus"`) {
		t.Errorf("Lookup(bogus) = %v, want InvalidArgument naming it", err)
	}
}

func TestKindsOrder(t *testing.T) {
	if Kinds[0].Type != specs.UserNamespace || Kinds[len(Kinds)-1].Type != specs.MountNamespace {
		t.Errorf("Kinds must join user first and mount last: %+v", Kinds)
	}
}

func TestValidate(t *testing.T) {
	plain := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(plain, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		list []specs.LinuxNamespace
		want string // "" for valid
	}{
		{"empty", nil, ""},
		{"new namespaces", []specs.LinuxNamespace{{Type: specs.PIDNamespace}, {Type: specs.MountNamespace}, {Type: specs.NetworkNamespace}}, ""},
		{"join by path", []specs.LinuxNamespace{{Type: specs.NetworkNamespace, Path: "/proc/self/ns/net"}, {Type: specs.IPCNamespace, Path: "/proc/self/ns/ipc"}}, ""},
		{"unknown type", []specs.LinuxNamespace{{Type: "bogus"}}, `"bogus"`},
		{"duplicate", []specs.LinuxNamespace{{Type: specs.IPCNamespace}, {Type: specs.UTSNamespace}, {Type: specs.IPCNamespace, Path: "/proc/self/ns/ipc"}}, "listed twice"},
		{"missing path", []specs.LinuxNamespace{{Type: specs.NetworkNamespace, Path: "/nonexistent/ns/net"}}, "/nonexistent/ns/net"},
		{"not a namespace", []specs.LinuxNamespace{{Type: specs.NetworkNamespace, Path: plain}}, "is not a namespace"},
		{"another type", []specs.LinuxNamespace{{Type: specs.IPCNamespace, Path: "/proc/self/ns/net"}}, "of another type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Validate(tc.list)
			if tc.want == "" {
				if err != nil {
					t.Errorf("Validate: %v", err)
				}
				return
			}
			if !errors.Is(err, errdefs.ErrInvalidArgument) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Validate = %v, want InvalidArgument containing %q", err, tc.want)
			}
		})
	}
}

// holder starts a process in a new network namespace and returns its pid; it
// is killed when the test ends.
func holder(t *testing.T) int {
	t.Helper()
	unshare := testenv.RequiresBinary(t, "unshare")
	cmd := exec.Command(unshare, "--net", "sh", "-c", "echo ready; exec sleep 60")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "ready\n" {
		t.Fatalf("namespace holder: %q, %v", line, err)
	}
	return cmd.Process.Pid
}

func readlink(t *testing.T, path string) string {
	t.Helper()
	s, err := os.Readlink(path)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestJoinAndRun(t *testing.T) {
	testenv.RequiresRoot(t)
	pid := holder(t)
	target := "/proc/" + strconv.Itoa(pid) + "/ns/net"
	theirs := readlink(t, target)
	ours := readlink(t, "/proc/self/ns/net")
	if theirs == ours {
		t.Fatalf("the holder shares our network namespace %s", ours)
	}
	if err := Validate([]specs.LinuxNamespace{{Type: specs.NetworkNamespace, Path: target}}); err != nil {
		t.Fatalf("Validate the holder's namespace: %v", err)
	}

	k, err := Lookup(specs.NetworkNamespace)
	if err != nil {
		t.Fatal(err)
	}
	var inside string
	err = JoinAndRun([]Join{{Kind: k, Path: target}}, func() error {
		var err error
		inside, err = os.Readlink("/proc/thread-self/ns/net")
		return err
	})
	if err != nil {
		t.Fatalf("JoinAndRun: %v", err)
	}
	if inside != theirs {
		t.Errorf("fn ran in network namespace %s, want the holder's %s", inside, theirs)
	}

	// The rest of the process stays where it was: the main thread, and this
	// goroutine's thread.
	if got := readlink(t, "/proc/self/ns/net"); got != ours {
		t.Errorf("after JoinAndRun the process is in %s, want %s", got, ours)
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if got := readlink(t, "/proc/thread-self/ns/net"); got != ours {
		t.Errorf("after JoinAndRun this thread is in %s, want %s", got, ours)
	}
}

func TestJoinAndRunErrors(t *testing.T) {
	k, err := Lookup(specs.NetworkNamespace)
	if err != nil {
		t.Fatal(err)
	}
	ran := false
	err = JoinAndRun([]Join{{Kind: k, Path: "/nonexistent/ns/net"}}, func() error { ran = true; return nil })
	if err == nil || !strings.Contains(err.Error(), "/nonexistent/ns/net") {
		t.Errorf("JoinAndRun with a missing path = %v, want an error naming it", err)
	}
	if ran {
		t.Errorf("fn ran although the join failed")
	}
	sentinel := errors.New("from fn")
	if err := JoinAndRun(nil, func() error { return sentinel }); err != sentinel {
		t.Errorf("JoinAndRun returned %v, want fn's error", err)
	}
}
