package integration

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-project/berth/test/kit"
)

func TestMaskedAndReadonlyPaths(t *testing.T) {
	r := newRuntime(t)
	b := kit.NewBundle(t)
	secret := filepath.Join(b.Rootfs, "etc/secret")
	if err := os.MkdirAll(secret, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(secret, "key"), []byte("s3cret"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(b.Rootfs, "etc/token"), []byte("t0ken"), 0o644); err != nil {
		t.Fatal(err)
	}
	b.Spec.Linux.MaskedPaths = append(b.Spec.Linux.MaskedPaths, "/etc/secret", "/etc/token")
	// Masked by default; this kernel may lack some of them.
	var script, want []string
	for _, p := range []string{"/proc/kcore", "/proc/timer_list", "/proc/keys"} {
		if _, err := os.Stat(p); err == nil {
			script = append(script, `echo "`+p+`=$(wc -c < `+p+`)"`)
			want = append(want, p+"=0")
		}
	}
	script = append(script,
		`echo "secret=$(ls -A /etc/secret)"`,
		`echo "token=$(cat /etc/token)"`,
		`echo 1 > /proc/sys/net/ipv4/ip_forward 2>/dev/null && echo sys-written || echo sys-refused`,
		`touch /etc/secret/new 2>/dev/null && echo mask-written || echo mask-refused`)
	want = append(want, "secret=", "token=", "sys-refused", "mask-refused")
	out := r.runShell(b, "masks", strings.Join(script, "\n"))
	if got := strings.Split(strings.TrimSpace(out), "\n"); !slices.Equal(got, want) {
		t.Errorf("masked and read-only paths seen from inside: %q, want %q", got, want)
	}
	if !slices.Contains(b.Spec.Linux.MaskedPaths, "/proc/timer_list") || !slices.Contains(b.Spec.Linux.ReadonlyPaths, "/proc/sys") {
		t.Errorf("the default spec no longer masks /proc/timer_list or makes /proc/sys read-only; fix this test")
	}
	assertNoLeaks(t, r, "masks", b)
}

func TestNoFdLeaks(t *testing.T) {
	r := newRuntime(t)
	b := kit.NewBundle(t)
	var rep probeReport
	r.report(b, "fds", &rep)
	var fds []int
	for _, f := range rep.FDs {
		fds = append(fds, f.FD)
	}
	if !slices.Equal(fds, []int{0, 1, 2}) {
		t.Errorf("open fds in the container %+v, want only 0, 1, 2", rep.FDs)
	}
	assertNoLeaks(t, r, "fds", b)
}

func TestPreserveFds(t *testing.T) {
	r := newRuntime(t)
	b := kit.NewBundle(t)
	if err := b.Save(); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var extra []*os.File
	for _, name := range []string{"first", "second"} {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		extra = append(extra, f)
	}
	cmd := exec.Command(r.bin, "--root", r.root, "run", "--preserve-fds", "2", "--bundle", b.Dir, "preserve")
	cmd.ExtraFiles = extra // fds 3 and 4
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("run --preserve-fds 2: %v: %s", err, errb.String())
	}
	var rep probeReport
	decodeJSON(t, out.String(), &rep)
	var got []string
	for _, f := range rep.FDs {
		if f.FD > 2 {
			got = append(got, f.Target)
		}
	}
	// The files are outside the container's root: the kernel shows their
	// host paths.
	want := []string{extra[0].Name(), extra[1].Name()}
	if !slices.Equal(got, want) || len(rep.FDs) != 5 || rep.FDs[3].FD != 3 || rep.FDs[4].FD != 4 {
		t.Errorf("fds in the container %+v, want 0-2 and 3, 4 on %q", rep.FDs, want)
	}
	assertNoLeaks(t, r, "preserve", b)
}

func TestCwdEscape(t *testing.T) {
	r := newRuntime(t)
	b := kit.NewBundle(t)
	b.Spec.Process.Cwd = "/tmp"
	b.Spec.Process.Args = []string{"/probe", "cwd-escape"}
	out, errs, code := r.runOutput(b, "cwd-escape")
	if code != 0 {
		t.Fatalf("run: exit %d: %s", code, errs)
	}
	var rep struct {
		Escaped  bool             `json:"escaped"`
		Attempts []map[string]any `json:"attempts"`
	}
	decodeJSON(t, out, &rep)
	if rep.Escaped || len(rep.Attempts) == 0 {
		t.Errorf("cwd escape: %s", out)
	}
	assertNoLeaks(t, r, "cwd-escape", b)
}

// CVE-2023-27561: a /proc symlink in the image would send the runtime's
// procfs writes (and the proc mount) wherever it points.
func TestProcSymlinkRefused(t *testing.T) {
	r := newRuntime(t)
	b := kit.NewBundle(t)
	target := t.TempDir()
	proc := filepath.Join(b.Rootfs, "proc")
	if err := os.Remove(proc); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, proc); err != nil {
		t.Fatal(err)
	}
	errs := r.createFails(b, "proc-symlink")
	if !strings.Contains(errs, "/proc") || !strings.Contains(errs, "symlink") {
		t.Errorf("create error %q, want one saying /proc is a symlink", errs)
	}
	if entries, _ := os.ReadDir(target); len(entries) != 0 {
		t.Errorf("the symlink's target %s got %d entries", target, len(entries))
	}
	assertNoLeaks(t, r, "proc-symlink", b)
}

// CVE-2021-30465 class: a mount destination that is a symlink to an absolute
// host path is resolved inside the rootfs.
func TestMountDestinationSymlinkStaysInRootfs(t *testing.T) {
	r := newRuntime(t)
	b := kit.NewBundle(t)
	hostDir := hostDir(t) // holds "name": "host"
	src := t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "bound"), []byte("bound"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(hostDir, filepath.Join(b.Rootfs, "mnt")); err != nil {
		t.Fatal(err)
	}
	// The link's target, taken inside the rootfs, exists there.
	// TODO(berth-runtime): runc also mounts when it does not (it creates the
	// target inside the rootfs); berth-runtime refuses a dangling link
	// ("is a dangling symlink"), which is safe but not runc's behaviour.
	if err := os.MkdirAll(filepath.Join(b.Rootfs, hostDir), 0o755); err != nil {
		t.Fatal(err)
	}
	b.Spec.Mounts = append(b.Spec.Mounts, specs.Mount{Destination: "/mnt", Type: "bind", Source: src, Options: []string{"bind"}})
	out := r.runShell(b, "dest-symlink", "cat /mnt/bound; echo; cat /mnt/name 2>/dev/null || echo no-host-file")
	if got := strings.Fields(out); !slices.Equal(got, []string{"bound", "no-host-file"}) {
		t.Errorf("through the /mnt symlink the container sees %q, want the bind mount in its rootfs", got)
	}
	if _, err := os.Stat(filepath.Join(b.Rootfs, hostDir, "bound")); err == nil {
		t.Errorf("the bind mount is still there in the rootfs after the run")
	}
	entries, _ := os.ReadDir(hostDir)
	if len(entries) != 1 || entries[0].Name() != "name" {
		t.Errorf("host directory %s changed: %v", hostDir, entries)
	}
	mi, _ := os.ReadFile("/proc/self/mountinfo")
	if strings.Contains(string(mi), hostDir) {
		t.Errorf("a mount on the host's %s", hostDir)
	}
	assertNoLeaks(t, r, "dest-symlink", b)
}

// CVE-2022-29162 class: no inheritable or ambient capabilities unless the
// spec asks for them, for root and for another user.
func TestNoInheritableCapsByDefault(t *testing.T) {
	for _, uid := range []uint32{0, 1000} {
		t.Run(map[uint32]string{0: "root", 1000: "user"}[uid], func(t *testing.T) {
			r := newRuntime(t)
			b := kit.NewBundle(t)
			b.Spec.Process.User = specs.User{UID: uid, GID: uid}
			var rep probeReport
			r.report(b, "caps-default", &rep)
			c := rep.Caps
			if c.Inheritable.Hex != "0000000000000000" || c.Ambient.Hex != "0000000000000000" {
				t.Errorf("inheritable %q ambient %q, want none", c.Inheritable.Names, c.Ambient.Names)
			}
			if want := b.Spec.Process.Capabilities.Bounding; !slices.Equal(sortedCopy(c.Bounding.Names), sortedCopy(want)) {
				t.Errorf("bounding %q, want the spec's %q", c.Bounding.Names, want)
			}
			assertNoLeaks(t, r, "caps-default", b)
		})
	}
}

func sortedCopy(s []string) []string {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}
