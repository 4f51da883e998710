package caps

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/testenv"
)

// childEnv names, in a re-executed test binary, the scenario to run instead
// of the tests. Capability changes cannot be undone, so they happen there.
const childEnv = "BERTH_CAPS_TEST_CHILD"

func TestMain(m *testing.M) {
	switch name := os.Getenv(childEnv); name {
	case "":
		os.Exit(m.Run())
	case "apply":
		applyChild()
	case "ambient-not-inheritable":
		ambientChild()
	default:
		fmt.Fprintf(os.Stderr, "unknown %s=%q\n", childEnv, name)
		os.Exit(2)
	}
}

// applyChild does what the container's init does: on a locked thread, drop
// the bounding set to CAP_KILL, then set the other four sets to CAP_KILL,
// and print the thread's Cap* lines.
func applyChild() {
	runtime.LockOSThread()
	s := FromSpec(&specs.LinuxCapabilities{
		Bounding: []string{"CAP_KILL"}, Effective: []string{"CAP_KILL"}, Inheritable: []string{"CAP_KILL"},
		Permitted: []string{"CAP_KILL"}, Ambient: []string{"CAP_KILL"},
	})
	if err := DropBounding(s); err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	if err := Apply(s); err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	b, err := os.ReadFile("/proc/thread-self/status")
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "Cap") {
			fmt.Println(l)
		}
	}
	os.Exit(0)
}

// ambientChild asks for an ambient capability that is not inheritable
// (runc's default spec does): Apply leaves it out instead of failing, and
// prints the thread's ambient set.
func ambientChild() {
	runtime.LockOSThread()
	err := Apply(FromSpec(&specs.LinuxCapabilities{
		Effective: []string{"CAP_KILL"}, Permitted: []string{"CAP_KILL"}, Ambient: []string{"CAP_KILL"},
	}))
	fmt.Println("error:", err)
	b, _ := os.ReadFile("/proc/thread-self/status")
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "CapAmb") {
			fmt.Println(l)
		}
	}
	os.Exit(0)
}

func runChild(t *testing.T, name string) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+name)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child %s: %v\n%s", name, err, out)
	}
	return string(out)
}

func TestApplyAndDropBounding(t *testing.T) {
	testenv.RequiresRoot(t)
	out := runChild(t, "apply")
	got := map[string]uint64{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		n, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
		if err != nil {
			t.Fatalf("child line %q: %v", sc.Text(), err)
		}
		got[k] = n
	}
	const kill = uint64(1) << unix.CAP_KILL
	for _, k := range []string{"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"} {
		v, ok := got[k]
		if !ok {
			t.Errorf("child did not report %s:\n%s", k, out)
			continue
		}
		if v != kill {
			t.Errorf("%s = %016x, want %016x (CAP_KILL only)", k, v, kill)
		}
	}
}

func TestApplyAmbientNeedsInheritable(t *testing.T) {
	testenv.RequiresRoot(t)
	out := runChild(t, "ambient-not-inheritable")
	if !strings.Contains(out, "error: <nil>") || !strings.Contains(out, "CapAmb:\t0000000000000000") {
		t.Errorf("ambient capability that is not inheritable: %q, want no error and an empty ambient set", out)
	}
}

// unixCaps are the kernel's numbers, from x/sys/unix, for every name.
var unixCaps = map[string]int{
	"CAP_CHOWN": unix.CAP_CHOWN, "CAP_DAC_OVERRIDE": unix.CAP_DAC_OVERRIDE,
	"CAP_DAC_READ_SEARCH": unix.CAP_DAC_READ_SEARCH, "CAP_FOWNER": unix.CAP_FOWNER,
	"CAP_FSETID": unix.CAP_FSETID, "CAP_KILL": unix.CAP_KILL, "CAP_SETGID": unix.CAP_SETGID,
	"CAP_SETUID": unix.CAP_SETUID, "CAP_SETPCAP": unix.CAP_SETPCAP,
	"CAP_LINUX_IMMUTABLE": unix.CAP_LINUX_IMMUTABLE, "CAP_NET_BIND_SERVICE": unix.CAP_NET_BIND_SERVICE,
	"CAP_NET_BROADCAST": unix.CAP_NET_BROADCAST, "CAP_NET_ADMIN": unix.CAP_NET_ADMIN,
	"CAP_NET_RAW": unix.CAP_NET_RAW, "CAP_IPC_LOCK": unix.CAP_IPC_LOCK, "CAP_IPC_OWNER": unix.CAP_IPC_OWNER,
	"CAP_SYS_MODULE": unix.CAP_SYS_MODULE, "CAP_SYS_RAWIO": unix.CAP_SYS_RAWIO,
	"CAP_SYS_CHROOT": unix.CAP_SYS_CHROOT, "CAP_SYS_PTRACE": unix.CAP_SYS_PTRACE,
	"CAP_SYS_PACCT": unix.CAP_SYS_PACCT, "CAP_SYS_ADMIN": unix.CAP_SYS_ADMIN,
	"CAP_SYS_BOOT": unix.CAP_SYS_BOOT, "CAP_SYS_NICE": unix.CAP_SYS_NICE,
	"CAP_SYS_RESOURCE": unix.CAP_SYS_RESOURCE, "CAP_SYS_TIME": unix.CAP_SYS_TIME,
	"CAP_SYS_TTY_CONFIG": unix.CAP_SYS_TTY_CONFIG, "CAP_MKNOD": unix.CAP_MKNOD,
	"CAP_LEASE": unix.CAP_LEASE, "CAP_AUDIT_WRITE": unix.CAP_AUDIT_WRITE,
	"CAP_AUDIT_CONTROL": unix.CAP_AUDIT_CONTROL, "CAP_SETFCAP": unix.CAP_SETFCAP,
	"CAP_MAC_OVERRIDE": unix.CAP_MAC_OVERRIDE, "CAP_MAC_ADMIN": unix.CAP_MAC_ADMIN,
	"CAP_SYSLOG": unix.CAP_SYSLOG, "CAP_WAKE_ALARM": unix.CAP_WAKE_ALARM,
	"CAP_BLOCK_SUSPEND": unix.CAP_BLOCK_SUSPEND, "CAP_AUDIT_READ": unix.CAP_AUDIT_READ,
	"CAP_PERFMON": unix.CAP_PERFMON, "CAP_BPF": unix.CAP_BPF,
	"CAP_CHECKPOINT_RESTORE": unix.CAP_CHECKPOINT_RESTORE,
}

func TestParse(t *testing.T) {
	for name, num := range unixCaps {
		got, err := Parse([]string{name})
		if err != nil || len(got) != 1 || got[0] != num {
			t.Errorf("Parse(%q) = %v, %v; want [%d]", name, got, err, num)
		}
	}
	got, err := Parse([]string{"CAP_SYS_ADMIN", "cap_kill", "Cap_Chown"})
	if err != nil {
		t.Fatalf("Parse with lowercase names: %v", err)
	}
	if want := []int{unix.CAP_SYS_ADMIN, unix.CAP_KILL, unix.CAP_CHOWN}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Parse = %v, want %v (in the order given)", got, want)
	}
	if got, err := Parse(nil); err != nil || len(got) != 0 {
		t.Errorf("Parse(nil) = %v, %v", got, err)
	}
	for _, bad := range []string{"CAP_FOO", "KILL", "", "CAP_KILL ", "CAP_"} {
		_, err := Parse([]string{"CAP_CHOWN", bad})
		if !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Errorf("Parse(%q) error = %v, want InvalidArgument", bad, err)
			continue
		}
		if !strings.Contains(err.Error(), strconv.Quote(bad)) {
			t.Errorf("Parse(%q) error %q does not name the capability", bad, err)
		}
	}
}

func TestValidate(t *testing.T) {
	if err := Validate(nil); err != nil {
		t.Errorf("Validate(nil) = %v", err)
	}
	ok := &specs.LinuxCapabilities{
		Bounding: []string{"CAP_KILL"}, Effective: []string{"cap_kill"}, Inheritable: []string{},
		Permitted: []string{"CAP_KILL", "CAP_NET_RAW"}, Ambient: []string{"CAP_NET_RAW"},
	}
	if err := Validate(ok); err != nil {
		t.Errorf("Validate(%+v) = %v", ok, err)
	}
	// An unknown name is found in each of the five sets.
	for i := range 5 {
		c := &specs.LinuxCapabilities{}
		sets := []*[]string{&c.Bounding, &c.Effective, &c.Inheritable, &c.Permitted, &c.Ambient}
		*sets[i] = []string{"CAP_KILL", "CAP_NOPE"}
		err := Validate(c)
		if !errors.Is(err, errdefs.ErrInvalidArgument) || !strings.Contains(err.Error(), "CAP_NOPE") {
			t.Errorf("Validate with CAP_NOPE in set %d = %v, want InvalidArgument naming it", i, err)
		}
	}
}

func TestFromSpec(t *testing.T) {
	if got := FromSpec(nil); got != (Sets{}) {
		t.Errorf("FromSpec(nil) = %+v, want no capabilities", got)
	}
	got := FromSpec(&specs.LinuxCapabilities{
		Bounding:    []string{"CAP_CHOWN", "CAP_SYS_ADMIN", "CAP_CHECKPOINT_RESTORE"},
		Effective:   []string{"CAP_KILL"},
		Inheritable: []string{"CAP_NET_BIND_SERVICE", "CAP_NET_BIND_SERVICE"},
		Permitted:   []string{"CAP_MAC_OVERRIDE", "CAP_SETPCAP"},
		Ambient:     nil,
	})
	want := Sets{
		Bounding:    1<<unix.CAP_CHOWN | 1<<unix.CAP_SYS_ADMIN | 1<<unix.CAP_CHECKPOINT_RESTORE,
		Effective:   1 << unix.CAP_KILL,
		Inheritable: 1 << unix.CAP_NET_BIND_SERVICE,
		Permitted:   1<<unix.CAP_MAC_OVERRIDE | 1<<unix.CAP_SETPCAP,
	}
	if got != want {
		t.Errorf("FromSpec = %+v, want %+v", got, want)
	}
	// Every name lands on the bit of its kernel number.
	for name, num := range unixCaps {
		if m := FromSpec(&specs.LinuxCapabilities{Effective: []string{name}}).Effective; m != 1<<uint(num) {
			t.Errorf("FromSpec(%s) = %#x, want bit %d", name, m, num)
		}
	}
}

func TestNames(t *testing.T) {
	n := Names()
	if len(n) != len(unixCaps) {
		t.Errorf("Names() has %d entries, want %d", len(n), len(unixCaps))
	}
	// In number order, without gaps: Names()[i] is capability i.
	for i, name := range n {
		if num, ok := unixCaps[name]; !ok || num != i {
			t.Errorf("Names()[%d] = %s (number %d, known %v)", i, name, num, ok)
		}
	}
	// Every capability of the running kernel has a name.
	if last := LastCap(); last >= len(n) {
		t.Errorf("the kernel knows capabilities up to %d, Names() only up to %d", last, len(n)-1)
	}
}
