package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/test/kit"
)

// hostNS returns the namespace link of kind ("net", "uts"…) of process pid
// ("self" for the test).
func hostNS(t *testing.T, pid, kind string) string {
	t.Helper()
	l, err := os.Readlink("/proc/" + pid + "/ns/" + kind)
	if err != nil {
		t.Fatalf("read namespace %s of %s: %v", kind, pid, err)
	}
	return l
}

// setNamespace puts a namespace of type typ (with path, "" for a new one)
// into b's spec, replacing one of the same type.
func setNamespace(b *kit.Bundle, typ specs.LinuxNamespaceType, path string) {
	ns := b.Spec.Linux.Namespaces[:0]
	for _, n := range b.Spec.Linux.Namespaces {
		if n.Type != typ {
			ns = append(ns, n)
		}
	}
	b.Spec.Linux.Namespaces = append(ns, specs.LinuxNamespace{Type: typ, Path: path})
}

func TestNamespacesNew(t *testing.T) {
	r := newRuntime(t)
	b := kit.NewBundle(t)
	b.Spec.Domainname = "berth.example"
	var rep probeReport
	r.report(b, "ns-new", &rep)
	if rep.PID != 1 {
		t.Errorf("pid %d, want 1 in a new pid namespace", rep.PID)
	}
	for _, kind := range []string{"pid", "net", "ipc", "uts", "mnt", "cgroup"} {
		if got, host := rep.Namespaces[kind], hostNS(t, "self", kind); got == "" || got == host {
			t.Errorf("%s namespace %q, want a new one (host %q)", kind, got, host)
		}
	}
	for _, kind := range []string{"user", "time"} {
		if got, host := rep.Namespaces[kind], hostNS(t, "self", kind); got != host {
			t.Errorf("%s namespace %q, want the host's %q (not asked for)", kind, got, host)
		}
	}
	if rep.Hostname != "berth-test" || rep.Domainname != "berth.example" {
		t.Errorf("hostname %q domainname %q, want berth-test and berth.example", rep.Hostname, rep.Domainname)
	}
	if len(rep.Cgroup) == 0 {
		t.Errorf("no lines in /proc/self/cgroup")
	}
	for _, l := range rep.Cgroup {
		if !strings.HasSuffix(l, ":/") {
			t.Errorf("/proc/self/cgroup line %q: want the namespace root \"/\"", l)
		}
	}
	assertNoLeaks(t, r, "ns-new", b)
}

func TestNetNamespaceOnlyLoopback(t *testing.T) {
	r := newRuntime(t)
	b := kit.NewBundle(t)
	out := r.runShell(b, "ns-net", "ls /sys/class/net; echo ---; cat /proc/net/dev")
	sysNet, procNet, _ := strings.Cut(out, "---")
	if got := strings.Fields(sysNet); !slices.Equal(got, []string{"lo"}) {
		t.Errorf("/sys/class/net lists %q, want only lo", got)
	}
	var ifaces []string
	for _, l := range strings.Split(procNet, "\n") {
		if name, _, ok := strings.Cut(l, ":"); ok && !strings.Contains(name, "|") {
			ifaces = append(ifaces, strings.TrimSpace(name))
		}
	}
	if !slices.Equal(ifaces, []string{"lo"}) {
		t.Errorf("/proc/net/dev lists %q, want only lo", ifaces)
	}
	assertNoLeaks(t, r, "ns-net", b)
}

// shiftOwners adds shift to the owner and group of every file under dir
// (symlinks themselves), as an id-mapped image is prepared.
func shiftOwners(t *testing.T, dir string, shift int) {
	t.Helper()
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		st := fi.Sys().(*syscall.Stat_t)
		return os.Lchown(p, int(st.Uid)+shift, int(st.Gid)+shift)
	})
	if err != nil {
		t.Fatalf("chown %s: %v", dir, err)
	}
}

func TestUserNamespace(t *testing.T) {
	r := newRuntime(t)
	b := kit.NewBundle(t)
	setNamespace(b, specs.UserNamespace, "")
	b.Spec.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
	b.Spec.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
	shiftOwners(t, b.Rootfs, 100000)
	// The bundle is in the test's TempDir (0700 directories): the mapped root
	// must be able to reach it.
	for _, d := range []string{b.Dir, filepath.Dir(b.Dir)} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	out := r.runShell(b, "ns-user", "cat /proc/self/uid_map /proc/self/gid_map; echo ---; id -u; stat -c %u:%g /etc/passwd /home/berth; readlink /proc/self/ns/user")
	maps, rest, _ := strings.Cut(out, "---")
	for _, l := range strings.Split(strings.TrimSpace(maps), "\n") {
		if f := strings.Fields(l); !slices.Equal(f, []string{"0", "100000", "65536"}) {
			t.Errorf("id map line %q, want 0 100000 65536", l)
		}
	}
	lines := strings.Fields(rest)
	want := []string{"0", "0:0", "1000:1000"}
	if len(lines) != 4 || !slices.Equal(lines[:3], want) {
		t.Fatalf("id, owners and user namespace %q, want %q and a namespace", lines, want)
	}
	if host := hostNS(t, "self", "user"); lines[3] == host {
		t.Errorf("user namespace %s is the host's", lines[3])
	}
	assertNoLeaks(t, r, "ns-user", b)
}

func TestTimeNamespaceOffsets(t *testing.T) {
	r := newRuntime(t)
	b := kit.NewBundle(t)
	setNamespace(b, specs.TimeNamespace, "")
	const shift = 86400 * 10 // ten days
	b.Spec.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{
		"monotonic": {Secs: shift},
		"boottime":  {Secs: shift},
	}
	before := hostUptime(t)
	out := r.runShell(b, "ns-time", "cat /proc/uptime")
	after := hostUptime(t)
	f := strings.Fields(out)
	if len(f) == 0 {
		t.Fatalf("/proc/uptime in the container: %q", out)
	}
	inside, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		t.Fatalf("/proc/uptime in the container: %q: %v", out, err)
	}
	if inside < before+shift || inside > after+shift+1 {
		t.Errorf("uptime inside %.2f, want the host's (%.2f..%.2f) shifted by %d s", inside, before, after, shift)
	}
	assertNoLeaks(t, r, "ns-time", b)
}

func hostUptime(t *testing.T) float64 {
	t.Helper()
	b, err := os.ReadFile("/proc/uptime")
	if err != nil {
		t.Fatal(err)
	}
	v, err := strconv.ParseFloat(strings.Fields(string(b))[0], 64)
	if err != nil {
		t.Fatalf("parse /proc/uptime %q: %v", b, err)
	}
	return v
}

// startHolder starts `unshare args… sleep 600` and returns its pid once its
// namespaces differ from the test's; it is killed when the test ends.
func startHolder(t *testing.T, kinds []string, args ...string) int {
	t.Helper()
	cmd := exec.Command("unshare", append(args, "sleep", "600")...)
	if err := cmd.Start(); err != nil {
		t.Fatalf("start unshare %v: %v", args, err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	pid := strconv.Itoa(cmd.Process.Pid)
	for deadline := time.Now().Add(10 * time.Second); ; {
		// unshare execs sleep once its namespaces are made. The command name,
		// not /proc/PID/exe: busybox's sleep is /bin/busybox.
		if comm, _ := os.ReadFile("/proc/" + pid + "/comm"); strings.TrimSpace(string(comm)) == "sleep" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("unshare %v did not exec sleep", args)
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, k := range kinds {
		if hostNS(t, pid, k) == hostNS(t, "self", k) {
			t.Fatalf("holder %s did not get a new %s namespace", pid, k)
		}
	}
	return cmd.Process.Pid
}

func TestNamespacesJoinByPath(t *testing.T) {
	r := newRuntime(t)
	holder := startHolder(t, []string{"net", "uts"}, "--net", "--uts")
	pid := strconv.Itoa(holder)
	b := kit.NewBundle(t)
	setNamespace(b, specs.NetworkNamespace, "/proc/"+pid+"/ns/net")
	setNamespace(b, specs.UTSNamespace, "/proc/"+pid+"/ns/uts")
	b.Spec.Hostname = "" // set below through the shared namespace
	var rep probeReport
	r.report(b, "ns-join", &rep)
	for _, k := range []string{"net", "uts"} {
		if got, want := rep.Namespaces[k], hostNS(t, pid, k); got != want {
			t.Errorf("%s namespace %q, want the holder's %q", k, got, want)
		}
	}
	if got, host := rep.Namespaces["ipc"], hostNS(t, "self", "ipc"); got == host {
		t.Errorf("ipc namespace is the host's")
	}
	assertNoLeaks(t, r, "ns-join", b)
}

// TestJoinUserNamespace joins a user namespace by path (through nsenter's
// constructor: the kernel lets only a single-threaded process do it), with
// new pid and mount namespaces created inside it and exec into it.
func TestJoinUserNamespace(t *testing.T) {
	r := newRuntime(t)
	holder := startHolder(t, []string{"user"}, "--user", "--map-root-user")
	b := kit.NewBundle(t)
	path := fmt.Sprintf("/proc/%d/ns/user", holder)
	setNamespace(b, specs.UserNamespace, path)
	// The holder maps root only: no devpts gid=5, and neither sysfs nor
	// cgroupfs, which need namespaces owned by that user namespace.
	var mounts []specs.Mount
	for _, m := range b.Spec.Mounts {
		if m.Destination == "/sys" || m.Destination == "/sys/fs/cgroup" {
			continue
		}
		m.Options = slices.DeleteFunc(slices.Clone(m.Options), func(o string) bool { return o == "gid=5" })
		mounts = append(mounts, m)
	}
	b.Spec.Mounts = mounts
	want, err := os.Readlink(path)
	if err != nil {
		t.Fatal(err)
	}
	out := r.runShell(b, "ns-join-user", "readlink /proc/self/ns/user; echo $$; cat /proc/self/uid_map")
	f := strings.Fields(out)
	if len(f) < 5 || f[0] != want || f[1] != "1" || f[2] != "0" || f[3] != "0" || f[4] != "1" {
		t.Errorf("inside: %q, want user ns %s, pid 1 and uid map \"0 0 1\"", out, want)
	}
	assertNoLeaks(t, r, "ns-join-user", b)

	// exec into it: the same user namespace and the container's pid namespace
	b.Spec.Process.Args = []string{"/probe", "sleep", "600"}
	if errs, code := r.create(b, "ns-join-user-exec"); code != 0 {
		t.Fatalf("create ns-join-user-exec: exit %d: %s", code, errs)
	}
	t.Cleanup(func() { r.exec(nil, "delete", "-f", "ns-join-user-exec") })
	r.must("start", "ns-join-user-exec")
	got := r.must("exec", "ns-join-user-exec", "sh", "-c", "readlink /proc/self/ns/user; cat /proc/1/cmdline | tr '\\0' ' '")
	if g := strings.Fields(got); len(g) < 2 || g[0] != want || g[1] != "/probe" {
		t.Errorf("exec: %q, want user ns %s and pid 1 the container's /probe", got, want)
	}
	r.must("delete", "-f", "ns-join-user-exec")
}

func TestSysctl(t *testing.T) {
	r := newRuntime(t)
	b := kit.NewBundle(t)
	hostForward, err := os.ReadFile("/proc/sys/net/ipv4/ip_forward")
	if err != nil {
		t.Fatal(err)
	}
	hostShmmax, err := os.ReadFile("/proc/sys/kernel/shmmax")
	if err != nil {
		t.Fatal(err)
	}
	want := "1"
	if strings.TrimSpace(string(hostForward)) == "1" {
		want = "0"
	}
	b.Spec.Linux.Sysctl = map[string]string{"net.ipv4.ip_forward": want, "kernel.shmmax": "123456789"}
	out := r.runShell(b, "sysctl", "cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmax")
	if got := strings.Fields(out); !slices.Equal(got, []string{want, "123456789"}) {
		t.Errorf("ip_forward and shmmax inside %q, want %s and 123456789", got, want)
	}
	for p, before := range map[string][]byte{"/proc/sys/net/ipv4/ip_forward": hostForward, "/proc/sys/kernel/shmmax": hostShmmax} {
		if now, _ := os.ReadFile(p); string(now) != string(before) {
			t.Errorf("host %s changed from %q to %q", p, before, now)
		}
	}
	assertNoLeaks(t, r, "sysctl", b)
}

func TestSysctlNotNamespacedRefused(t *testing.T) {
	r := newRuntime(t)
	b := kit.NewBundle(t)
	before, _ := os.ReadFile("/proc/sys/kernel/pid_max")
	b.Spec.Linux.Sysctl = map[string]string{"kernel.pid_max": "4194000"}
	errs := r.createFails(b, "sysctl-host")
	if !strings.Contains(errs, "kernel.pid_max") {
		t.Errorf("create error %q, want one naming kernel.pid_max", errs)
	}
	if now, _ := os.ReadFile("/proc/sys/kernel/pid_max"); string(now) != string(before) {
		t.Errorf("host kernel.pid_max changed from %q to %q", before, now)
	}
	assertNoLeaks(t, r, "sysctl-host", b)
}

func TestProcessIdentity(t *testing.T) {
	r := newRuntime(t)
	b := kit.NewBundle(t)
	p := b.Spec.Process
	p.User = specs.User{UID: 1000, GID: 1000, AdditionalGids: []uint32{2000, 3000}, Umask: ptr(uint32(0o027))}
	p.Cwd = "/home/berth/new/dir" // missing: created
	p.Env = []string{"PATH=/bin", "A=1", "EMPTY=", "WITH_EQ=x=y", "SPACE=a b"}
	p.Args = []string{"/probe", "report"}
	var rep probeReport
	r.report(b, "process", &rep)
	if rep.UID != 1000 || rep.EUID != 1000 || rep.GID != 1000 || rep.EGID != 1000 {
		t.Errorf("uid %d euid %d gid %d egid %d, want 1000", rep.UID, rep.EUID, rep.GID, rep.EGID)
	}
	groups := slices.Clone(rep.Groups)
	slices.Sort(groups)
	if !slices.Equal(groups, []int{1000, 2000, 3000}) && !slices.Equal(groups, []int{2000, 3000}) {
		t.Errorf("groups %v, want 2000 and 3000 (and 1000)", rep.Groups)
	}
	if rep.Umask != "0027" {
		t.Errorf("umask %s, want 0027", rep.Umask)
	}
	if rep.Cwd != p.Cwd {
		t.Errorf("cwd %q, want %q", rep.Cwd, p.Cwd)
	}
	// HOME is added from the container's /etc/passwd when missing, as runc does.
	if want := append(slices.Clone(p.Env), "HOME=/home/berth"); !slices.Equal(rep.Env, want) {
		t.Errorf("env %q, want exactly %q", rep.Env, want)
	}
	if !slices.Equal(rep.Args, p.Args) {
		t.Errorf("args %q, want %q", rep.Args, p.Args)
	}
	assertNoLeaks(t, r, "process", b)
}

func ptr[T any](v T) *T { return &v }

func TestProcessArgs(t *testing.T) {
	r := newRuntime(t)
	b := kit.NewBundle(t)
	b.Spec.Process.Args = []string{"/bin/sh", "-c", `printf '%s|' "$0" "$@"`, "zero", "one two", "", "three"}
	out, errs, code := r.runOutput(b, "args")
	if code != 0 {
		t.Fatalf("run: exit %d: %s", code, errs)
	}
	if want := "zero|one two||three|"; out != want {
		t.Errorf("args seen %q, want %q", out, want)
	}
	assertNoLeaks(t, r, "args", b)
}

func TestCapabilities(t *testing.T) {
	r := newRuntime(t)
	b := kit.NewBundle(t)
	b.Spec.Process.User = specs.User{UID: 1000, GID: 1000}
	b.Spec.Process.Capabilities = &specs.LinuxCapabilities{
		Bounding:    []string{"CAP_KILL", "CAP_NET_BIND_SERVICE"},
		Effective:   []string{"CAP_NET_BIND_SERVICE"},
		Permitted:   []string{"CAP_NET_BIND_SERVICE"},
		Inheritable: []string{"CAP_NET_BIND_SERVICE"},
		Ambient:     []string{"CAP_NET_BIND_SERVICE"},
	}
	var rep probeReport
	r.report(b, "caps", &rep)
	c := rep.Caps
	for name, got := range map[string][]string{
		"bounding": c.Bounding.Names, "effective": c.Effective.Names, "permitted": c.Permitted.Names,
		"inheritable": c.Inheritable.Names, "ambient": c.Ambient.Names,
	} {
		want := []string{"CAP_NET_BIND_SERVICE"}
		if name == "bounding" {
			want = []string{"CAP_KILL", "CAP_NET_BIND_SERVICE"}
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s set %q, want %q", name, got, want)
		}
	}
	if rep.UID != 1000 {
		t.Errorf("uid %d, want 1000", rep.UID)
	}
	assertNoLeaks(t, r, "caps", b)
}

func TestNoNewPrivileges(t *testing.T) {
	for _, nnp := range []bool{true, false} {
		t.Run(strconv.FormatBool(nnp), func(t *testing.T) {
			r := newRuntime(t)
			b := kit.NewBundle(t)
			b.Spec.Process.NoNewPrivileges = nnp
			var rep probeReport
			r.report(b, "nnp", &rep)
			if rep.NoNewPrivs != nnp {
				t.Errorf("NoNewPrivs %v, want %v", rep.NoNewPrivs, nnp)
			}
			assertNoLeaks(t, r, "nnp", b)
		})
	}
}

func TestRlimits(t *testing.T) {
	r := newRuntime(t)
	b := kit.NewBundle(t)
	b.Spec.Process.Rlimits = []specs.POSIXRlimit{
		{Type: "RLIMIT_NOFILE", Soft: 1024, Hard: 2048},
		{Type: "RLIMIT_CORE", Soft: 0, Hard: 4096},
	}
	var rep probeReport
	r.report(b, "rlimits", &rep)
	for _, l := range b.Spec.Process.Rlimits {
		if got := rep.Rlimits[l.Type]; got.Soft != int64(l.Soft) || got.Hard != int64(l.Hard) {
			t.Errorf("%s = %+v, want soft %d hard %d", l.Type, got, l.Soft, l.Hard)
		}
	}
	assertNoLeaks(t, r, "rlimits", b)
}

func TestOOMScoreAdj(t *testing.T) {
	r := newRuntime(t)
	b := kit.NewBundle(t)
	b.Spec.Process.OOMScoreAdj = ptr(500)
	var rep probeReport
	r.report(b, "oom", &rep)
	if rep.OOMScoreAdj != 500 {
		t.Errorf("oom_score_adj %d, want 500", rep.OOMScoreAdj)
	}
	assertNoLeaks(t, r, "oom", b)

	// Lowering the score needs CAP_SYS_RESOURCE: where root has it (a
	// plain host or VM) it works, where root lacks it (this development
	// host) the runtime must refuse to create the container.
	b.Spec.Process.OOMScoreAdj = ptr(-500)
	if hasCap(t, unix.CAP_SYS_RESOURCE) {
		rep = probeReport{}
		r.report(b, "oom-negative", &rep)
		if rep.OOMScoreAdj != -500 {
			t.Errorf("oom_score_adj %d, want -500", rep.OOMScoreAdj)
		}
	} else {
		errs := r.createFails(b, "oom-negative")
		if !strings.Contains(errs, "oom") {
			t.Errorf("create error %q, want one naming the oom score", errs)
		}
	}
	assertNoLeaks(t, r, "oom-negative", b)
}

// hasCap reports whether the test process has capability c in its
// effective set (CapEff in /proc/self/status).
func hasCap(t testing.TB, c int) bool {
	t.Helper()
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(l, "CapEff:"); ok {
			eff, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			if err != nil {
				t.Fatalf("CapEff %q: %v", v, err)
			}
			return eff&(1<<c) != 0
		}
	}
	t.Fatal("no CapEff in /proc/self/status")
	return false
}

func TestLSMFieldsRefusedWithoutLSM(t *testing.T) {
	if b, err := os.ReadFile("/sys/module/apparmor/parameters/enabled"); err == nil && strings.HasPrefix(string(b), "Y") {
		t.Skip("AppArmor is enabled on this host")
	}
	if _, err := os.Stat("/sys/fs/selinux/enforce"); err == nil {
		t.Skip("SELinux is enabled on this host")
	}
	for field, set := range map[string]func(*specs.Process){
		"apparmorProfile": func(p *specs.Process) { p.ApparmorProfile = "berth-test" },
		"selinuxLabel":    func(p *specs.Process) { p.SelinuxLabel = "system_u:system_r:container_t:s0" },
	} {
		t.Run(field, func(t *testing.T) {
			r := newRuntime(t)
			b := kit.NewBundle(t)
			set(b.Spec.Process)
			errs := r.createFails(b, "lsm")
			if !strings.Contains(errs, field) {
				t.Errorf("create error %q, want one naming %s", errs, field)
			}
			assertNoLeaks(t, r, "lsm", b)
		})
	}
}

func TestAnnotationsInState(t *testing.T) {
	r := newRuntime(t)
	b := kit.NewBundle(t)
	b.Spec.Annotations = map[string]string{"org.berth.test": "yes", "com.example/key": "a=b c"}
	if errs, code := r.create(b, "annotations"); code != 0 {
		t.Fatalf("create: exit %d: %s", code, errs)
	}
	st := r.state("annotations")
	r.must("delete", "-f", "annotations")
	got, _ := st["annotations"].(map[string]any)
	for k, v := range b.Spec.Annotations {
		if got[k] != v {
			t.Errorf("state annotation %q = %v, want %q (all: %v)", k, got[k], v, got)
		}
	}
	if st["status"] != "created" {
		t.Errorf("status %v, want created", st["status"])
	}
	assertNoLeaks(t, r, "annotations", b)
}
