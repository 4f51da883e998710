package kit_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/testenv"
	"github.com/berth-project/berth/test/kit"
)

// probeReport is the part of `probe report` these tests read.
type probeReport struct {
	PID        int      `json:"pid"`
	PPID       int      `json:"ppid"`
	UID        int      `json:"uid"`
	GID        int      `json:"gid"`
	Cwd        string   `json:"cwd"`
	Hostname   string   `json:"hostname"`
	Env        []string `json:"env"`
	Args       []string `json:"args"`
	Namespaces map[string]string
	Caps       map[string]struct {
		Hex   string   `json:"hex"`
		Names []string `json:"names"`
	} `json:"caps"`
	Mounts []struct {
		Mountpoint string `json:"mountpoint"`
		FSType     string `json:"fstype"`
	} `json:"mounts"`
	FDs []struct {
		FD     int    `json:"fd"`
		Target string `json:"target"`
	} `json:"fds"`
	TTY    bool              `json:"tty"`
	Errors map[string]string `json:"errors"`
}

func parseReport(t *testing.T, out []byte) probeReport {
	t.Helper()
	var r probeReport
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("parse probe report: %v\n%s", err, out)
	}
	return r
}

func TestRootfs(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "rootfs")
	kit.Rootfs(t, dir)

	for _, a := range kit.Applets {
		target, err := os.Readlink(filepath.Join(dir, "bin", a))
		if err != nil || target != "busybox" {
			t.Errorf("bin/%s: want a link to busybox, got %q, %v", a, target, err)
		}
	}
	for _, f := range []string{"bin/busybox", "probe"} {
		st, err := os.Stat(filepath.Join(dir, f))
		if err != nil || !st.Mode().IsRegular() || st.Mode().Perm()&0o111 == 0 {
			t.Errorf("%s: want an executable file, got %v, %v", f, st, err)
		}
	}
	want, err := os.ReadFile(testenv.Binary(t, "probe"))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(filepath.Join(dir, "probe")); err != nil || !bytes.Equal(got, want) {
		t.Errorf("probe: not a copy of the built probe (%v)", err)
	}
	for d, mode := range map[string]os.FileMode{
		"proc": 0o555, "sys": 0o555, "dev": 0o755, "tmp": 0o777 | os.ModeSticky,
		"etc": 0o755, "root": 0o700, "home": 0o755, "var": 0o755, "run": 0o755,
	} {
		st, err := os.Stat(filepath.Join(dir, d))
		if err != nil || !st.IsDir() || st.Mode()&(os.ModePerm|os.ModeSticky) != mode {
			t.Errorf("%s: want a directory with mode %v, got %v, %v", d, mode, st, err)
		}
	}
	passwd, _ := os.ReadFile(filepath.Join(dir, "etc/passwd"))
	for _, l := range []string{"root:x:0:0:", "nobody:x:65534:65534:", "berth:x:1000:1000:"} {
		if !strings.Contains(string(passwd), "\n"+l) && !strings.HasPrefix(string(passwd), l) {
			t.Errorf("etc/passwd lacks %q:\n%s", l, passwd)
		}
	}
	group, _ := os.ReadFile(filepath.Join(dir, "etc/group"))
	for _, l := range []string{"root:x:0:", "tty:x:5:", "nogroup:x:65534:", "berth:x:1000:", "extra:x:2000:"} {
		if !strings.Contains(string(group), l) {
			t.Errorf("etc/group lacks %q:\n%s", l, group)
		}
	}

	// The applets run from the host too (busybox is static).
	out, err := exec.Command(filepath.Join(dir, "bin/echo"), "hi").CombinedOutput()
	if err != nil || string(out) != "hi\n" {
		t.Errorf("bin/echo hi: %q, %v", out, err)
	}
}

func TestProbeReportOnHost(t *testing.T) {
	probe := testenv.Binary(t, "probe")
	cwd := t.TempDir()
	extra, err := os.Create(filepath.Join(cwd, "extra"))
	if err != nil {
		t.Fatal(err)
	}
	defer extra.Close()

	cmd := exec.Command(probe, "report")
	cmd.Dir = cwd
	cmd.Env = append(os.Environ(), "KIT_TEST=1")
	cmd.ExtraFiles = []*os.File{extra}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("probe report: %v", err)
	}
	r := parseReport(t, out)

	if len(r.Errors) > 0 {
		t.Errorf("errors: %v", r.Errors)
	}
	if r.UID != os.Getuid() || r.GID != os.Getgid() {
		t.Errorf("uid/gid %d/%d, want %d/%d", r.UID, r.GID, os.Getuid(), os.Getgid())
	}
	if r.PID <= 0 || r.PID != cmd.Process.Pid || r.PPID != os.Getpid() {
		t.Errorf("pid %d ppid %d, want %d %d", r.PID, r.PPID, cmd.Process.Pid, os.Getpid())
	}
	if r.Cwd != cwd {
		t.Errorf("cwd %q, want %q", r.Cwd, cwd)
	}
	if h, _ := os.Hostname(); r.Hostname != h {
		t.Errorf("hostname %q, want %q", r.Hostname, h)
	}
	if !slices.Contains(r.Env, "KIT_TEST=1") {
		t.Errorf("env lacks KIT_TEST=1: %v", r.Env)
	}
	if !slices.Equal(r.Args, []string{probe, "report"}) {
		t.Errorf("args %q", r.Args)
	}
	for _, ns := range []string{"mnt", "pid", "net", "uts", "ipc", "user", "cgroup"} {
		if want, _ := os.Readlink("/proc/self/ns/" + ns); r.Namespaces[ns] != want {
			t.Errorf("namespace %s: %q, want %q (the test's)", ns, r.Namespaces[ns], want)
		}
	}
	if bnd := r.Caps["bounding"]; bnd.Hex != statusField(t, "CapBnd") || len(bnd.Names) == 0 {
		t.Errorf("bounding set %+v, want the test's %s", bnd, statusField(t, "CapBnd"))
	}
	if !slices.ContainsFunc(r.Mounts, func(m struct {
		Mountpoint string `json:"mountpoint"`
		FSType     string `json:"fstype"`
	}) bool {
		return m.Mountpoint == "/proc" && m.FSType == "proc"
	}) {
		t.Errorf("no proc mount at /proc in %+v", r.Mounts)
	}
	// The child holds stdin, stdout, stderr, ExtraFiles as fd 3 and whatever
	// the test process inherited without close-on-exec; the probe must not list
	// its own descriptors.
	want := []int{0, 1, 2, 3}
	for _, fd := range inheritedFDs(t) {
		if fd > 3 {
			want = append(want, fd)
		}
	}
	var fds []int
	for _, f := range r.FDs {
		fds = append(fds, f.FD)
	}
	if !slices.Equal(fds, want) || r.FDs[3].Target != extra.Name() {
		t.Errorf("fds %+v, want %v with 3 → %s", r.FDs, want, extra.Name())
	}
	if r.TTY {
		t.Errorf("tty is true with stdin from /dev/null")
	}
}

// inheritedFDs returns the test process's fds that a child inherits (those
// without close-on-exec), in ascending order.
func inheritedFDs(t *testing.T) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	var fds []int
	for _, e := range entries {
		fd, err := strconv.Atoi(e.Name())
		if err != nil {
			t.Fatal(err)
		}
		if flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err == nil && flags&unix.FD_CLOEXEC == 0 {
			fds = append(fds, fd)
		}
	}
	slices.Sort(fds)
	return fds
}

// statusField returns a field of the test process's /proc/self/status.
func statusField(t *testing.T, key string) string {
	t.Helper()
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && k == key {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("/proc/self/status has no %s", key)
	return ""
}

// TestRootfsChroot runs the probe and the shell inside the kit rootfs, in new
// mount and pid namespaces (which take the proc mount with them on exit).
func TestRootfsChroot(t *testing.T) {
	testenv.RequiresRoot(t)
	unshare := testenv.RequiresBinary(t, "unshare")
	dir := filepath.Join(t.TempDir(), "rootfs")
	kit.Rootfs(t, dir)
	run := func(args ...string) []byte {
		t.Helper()
		cmd := exec.Command(unshare, append([]string{"--mount", "--pid", "--fork", "--mount-proc", "--root", dir}, args...)...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%v: %v\n%s", cmd.Args, err, stderr.Bytes())
		}
		return out
	}

	r := parseReport(t, run("/probe", "report"))
	if r.PID != 1 || r.Cwd != "/" || len(r.Errors) > 0 {
		t.Errorf("pid %d cwd %q errors %v, want pid 1 in / without errors", r.PID, r.Cwd, r.Errors)
	}
	if own, _ := os.Readlink("/proc/self/ns/pid"); r.Namespaces["pid"] == own || r.Namespaces["pid"] == "" {
		t.Errorf("pid namespace %q, want a new one", r.Namespaces["pid"])
	}
	if len(r.Mounts) == 0 || r.Mounts[len(r.Mounts)-1].Mountpoint != "/proc" {
		t.Errorf("mounts %+v, want /proc last", r.Mounts)
	}
	if out := run("/bin/sh", "-c", "echo hi"); string(out) != "hi\n" {
		t.Errorf("sh -c 'echo hi': %q", out)
	}
}
