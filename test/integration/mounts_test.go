package integration

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/linux/cgroups"
	"github.com/berth-project/berth/test/kit"
)

func TestRootReadonly(t *testing.T) {
	for _, ro := range []bool{true, false} {
		name := map[bool]string{true: "readonly", false: "writable"}[ro]
		t.Run(name, func(t *testing.T) {
			r := newRuntime(t)
			b := kit.NewBundle(t)
			b.Spec.Root.Readonly = ro
			b.Spec.Process.Args = []string{"/probe", "write", "/written", "x"}
			_, errs, code := r.runOutput(b, "root-"+name)
			if ro && (code == 0 || !strings.Contains(errs, "read-only file system")) {
				t.Errorf("write to / of a read-only root: exit %d, stderr %q; want EROFS", code, errs)
			}
			_, err := os.Stat(filepath.Join(b.Rootfs, "written"))
			if !ro && (code != 0 || err != nil) {
				t.Errorf("write to / of a writable root: exit %d, stderr %q, file on rootfs: %v", code, errs, err)
			}
			if ro && err == nil {
				t.Errorf("/written exists in the rootfs although the root is read-only")
			}
			assertNoLeaks(t, r, "root-"+name, b)
		})
	}
}

func TestRootfsPropagation(t *testing.T) {
	// The host's / is private here; a slave needs a master: for "rslave"
	// the rootfs is made a shared mount of its own on the host first.
	for _, c := range []struct{ prop, want string }{
		{"private", "private"}, {"rslave", "slave"}, {"shared", "shared"},
	} {
		t.Run(c.prop, func(t *testing.T) {
			r := newRuntime(t)
			b := kit.NewBundle(t)
			unmount := func() {}
			if c.want == "slave" {
				unmount = sharedMount(t, b.Rootfs)
			}
			b.Spec.Linux.RootfsPropagation = c.prop
			var rep probeReport
			r.report(b, "prop-"+c.prop, &rep)
			if got := rep.mount(t, "/").Propagation; got != c.want {
				t.Errorf("rootfsPropagation %s: propagation of / is %q, want %q", c.prop, got, c.want)
			}
			unmount()
			assertNoLeaks(t, r, "prop-"+c.prop, b)
		})
	}
}

// sharedMount bind-mounts dir on itself as a shared mount (on the host) and
// returns the function that unmounts it (also called when the test ends).
func sharedMount(t *testing.T, dir string) func() {
	t.Helper()
	if err := unix.Mount(dir, dir, "", unix.MS_BIND, ""); err != nil {
		t.Fatalf("bind %s: %v", dir, err)
	}
	done := false
	unmount := func() {
		if !done {
			done = true
			if err := unix.Unmount(dir, unix.MNT_DETACH); err != nil {
				t.Errorf("unmount %s: %v", dir, err)
			}
		}
	}
	t.Cleanup(unmount)
	if err := unix.Mount("", dir, "", unix.MS_SHARED, ""); err != nil {
		t.Fatalf("make %s shared: %v", dir, err)
	}
	return unmount
}

// hostDir makes a directory for bind mounts with file "name" holding "host".
func hostDir(t *testing.T) string {
	t.Helper()
	d := t.TempDir()
	if err := os.WriteFile(filepath.Join(d, "name"), []byte("host"), 0o644); err != nil {
		t.Fatal(err)
	}
	return d
}

// mountTmpfs mounts a tmpfs on dir (on the host) until the test ends.
func mountTmpfs(t *testing.T, dir string) {
	t.Helper()
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size=1m"); err != nil {
		t.Fatalf("mount tmpfs on %s: %v", dir, err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(dir, unix.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
}

func TestBindMounts(t *testing.T) {
	r := newRuntime(t)
	b := kit.NewBundle(t)
	rw, ro, rec, flags := hostDir(t), hostDir(t), hostDir(t), hostDir(t)
	sub := filepath.Join(rec, "sub")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	mountTmpfs(t, sub)
	if err := os.WriteFile(filepath.Join(sub, "name"), []byte("submount"), 0o644); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, []byte("a file"), 0o644); err != nil {
		t.Fatal(err)
	}
	b.Spec.Mounts = append(b.Spec.Mounts,
		specs.Mount{Destination: "/mnt/rw", Type: "bind", Source: rw, Options: []string{"bind", "rw"}},
		specs.Mount{Destination: "/mnt/ro", Type: "bind", Source: ro, Options: []string{"bind", "ro"}},
		specs.Mount{Destination: "/mnt/rbind", Type: "bind", Source: rec, Options: []string{"rbind"}},
		specs.Mount{Destination: "/mnt/bind", Type: "bind", Source: rec, Options: []string{"bind"}},
		specs.Mount{Destination: "/mnt/flags", Type: "bind", Source: flags, Options: []string{"bind", "nosuid", "nodev", "noexec"}},
		specs.Mount{Destination: "/etc/file", Type: "bind", Source: file, Options: []string{"bind", "ro"}},
	)
	out := r.runShell(b, "binds", `
		echo rw > /mnt/rw/new && echo rw-ok
		echo ro > /mnt/ro/new || echo ro-refused
		cat /mnt/rbind/sub/name; echo
		cat /mnt/bind/sub/name 2>/dev/null || echo bind-no-sub
		cat /etc/file; echo
		/probe report`)
	lines := strings.SplitN(out, "\n", 6)
	want := []string{"rw-ok", "ro-refused", "submount", "bind-no-sub", "a file"}
	var got []string
	for _, l := range lines[:5] {
		got = append(got, strings.TrimSpace(l))
	}
	if !slices.Equal(got, want) {
		t.Errorf("bind mounts seen from inside: %q, want %q", got, want)
	}
	if b, err := os.ReadFile(filepath.Join(rw, "new")); err != nil || string(b) != "rw\n" {
		t.Errorf("write through the rw bind mount: %q, %v", b, err)
	}
	if _, err := os.Stat(filepath.Join(ro, "new")); err == nil {
		t.Errorf("a file was written through the ro bind mount")
	}
	var rep probeReport
	decodeJSON(t, lines[5], &rep)
	for mp, opts := range map[string][]string{
		"/mnt/rw": {"rw"}, "/mnt/ro": {"ro"}, "/mnt/flags": {"nosuid", "nodev", "noexec"}, "/etc/file": {"ro"},
	} {
		m := rep.mount(t, mp)
		for _, o := range opts {
			if !slices.Contains(m.Options, o) {
				t.Errorf("mount %s options %q, want %s", mp, m.Options, o)
			}
		}
	}
	if m := rep.mount(t, "/mnt/rbind/sub"); m.FSType != "tmpfs" {
		t.Errorf("submount of the rbind is %s, want tmpfs", m.FSType)
	}
	assertNoLeaks(t, r, "binds", b)
}

func TestSpecialMounts(t *testing.T) {
	r := newRuntime(t)
	b := kit.NewBundle(t)
	b.Spec.Mounts = append(b.Spec.Mounts,
		specs.Mount{Destination: "/scratch", Type: "tmpfs", Source: "tmpfs", Options: []string{"size=2m", "mode=1770", "nodev"}},
	)
	b.Spec.Linux.Resources.Pids = &specs.LinuxPids{Limit: ptr(int64(42))}
	// The container's cgroup mount: on a v1 (or hybrid) host one mount per
	// controller, on a v2 host the unified tree at /sys/fs/cgroup.
	unified := cgroups.HostMode() == cgroups.Unified
	cgMount, cgType := "/sys/fs/cgroup/pids", "cgroup"
	if unified {
		cgMount, cgType = "/sys/fs/cgroup", "cgroup2"
	}
	pidsMax := cgMount + "/pids.max"
	out := r.runShell(b, "special", "cat "+pidsMax+" && stat -c %a /scratch && /probe report")
	first, rest, _ := strings.Cut(out, "\n")
	mode, rest, _ := strings.Cut(rest, "\n")
	if first != "42" {
		t.Errorf("%s inside is %q, want the limit 42", pidsMax, first)
	}
	if mode != "1770" {
		t.Errorf("mode of the tmpfs /scratch %q, want 1770", mode)
	}
	var rep probeReport
	decodeJSON(t, rest, &rep)
	checks := []struct {
		mountpoint, fstype string
		options, super     []string
	}{
		{"/scratch", "tmpfs", []string{"nodev"}, []string{"size=2048k", "mode=1770"}},
		{"/proc", "proc", nil, nil},
		{"/sys", "sysfs", []string{"ro", "nosuid", "nodev", "noexec"}, nil},
		{"/dev/pts", "devpts", []string{"nosuid", "noexec"}, []string{"mode=620", "ptmxmode=666", "gid=5"}},
		{"/dev/mqueue", "mqueue", []string{"nosuid", "nodev", "noexec"}, nil},
		{"/dev/shm", "tmpfs", []string{"nosuid", "nodev", "noexec"}, []string{"size=65536k"}}, // mode 1777 is the default: not shown
	}
	for _, c := range checks {
		m := rep.mount(t, c.mountpoint)
		if m.FSType != c.fstype {
			t.Errorf("%s is %s, want %s", c.mountpoint, m.FSType, c.fstype)
		}
		for _, o := range c.options {
			if !slices.Contains(m.Options, o) {
				t.Errorf("%s options %q, want %s", c.mountpoint, m.Options, o)
			}
		}
		for _, o := range c.super {
			if !slices.Contains(m.SuperOptions, o) {
				t.Errorf("%s superblock options %q, want %s", c.mountpoint, m.SuperOptions, o)
			}
		}
	}
	// The mount's root is the container's cgroup (the cgroup namespace makes
	// it "/").
	m := rep.mount(t, cgMount)
	if m.FSType != cgType || !slices.Contains(m.Options, "ro") || m.Root != "/" {
		t.Errorf("%s: %+v, want a read-only %s mount of root /", cgMount, m, cgType)
	}
	assertNoLeaks(t, r, "special", b)
}

func TestMountPropagationOptions(t *testing.T) {
	r := newRuntime(t)
	b := kit.NewBundle(t)
	shared, slave := t.TempDir(), t.TempDir()
	// The source of an rslave mount needs a peer group to follow.
	sharedMount(t, slave)
	b.Spec.Linux.RootfsPropagation = "private"
	b.Spec.Mounts = append(b.Spec.Mounts,
		specs.Mount{Destination: "/mnt/shared", Type: "bind", Source: shared, Options: []string{"rbind", "rshared"}},
		specs.Mount{Destination: "/mnt/slave", Type: "bind", Source: slave, Options: []string{"rbind", "rslave"}},
		specs.Mount{Destination: "mnt/relative", Type: "tmpfs", Source: "tmpfs", Options: []string{"size=1m"}},
	)
	var rep probeReport
	r.report(b, "mount-prop", &rep)
	if p := rep.mount(t, "/mnt/shared").Propagation; p != "shared" {
		t.Errorf("rshared mount propagation %q, want shared", p)
	}
	if p := rep.mount(t, "/mnt/slave").Propagation; p != "slave" {
		t.Errorf("rslave mount propagation %q, want slave", p)
	}
	// A relative destination is taken from the root, as runc does.
	if m := rep.mount(t, "/mnt/relative"); m.FSType != "tmpfs" {
		t.Errorf("relative destination mnt/relative: %+v, want a tmpfs at /mnt/relative", m)
	}
	assertNoLeaks(t, r, "mount-prop", b)
}

func TestDefaultDevices(t *testing.T) {
	r := newRuntime(t)
	b := kit.NewBundle(t)
	out := r.runShell(b, "devices", `
		for d in null zero full random urandom tty; do stat -c "%n %F %a %t:%T" /dev/$d; done
		for l in fd stdin stdout stderr ptmx; do echo "/dev/$l -> $(readlink /dev/$l)"; done
		ls /dev/fd/ >/dev/null && echo fd-ok`)
	want := []string{
		"/dev/null character special file 666 1:3",
		"/dev/zero character special file 666 1:5",
		"/dev/full character special file 666 1:7",
		"/dev/random character special file 666 1:8",
		"/dev/urandom character special file 666 1:9",
		"/dev/tty character special file 666 5:0",
		"/dev/fd -> /proc/self/fd",
		"/dev/stdin -> /proc/self/fd/0",
		"/dev/stdout -> /proc/self/fd/1",
		"/dev/stderr -> /proc/self/fd/2",
		"/dev/ptmx -> pts/ptmx",
		"fd-ok",
	}
	if got := strings.Split(strings.TrimSpace(out), "\n"); !slices.Equal(got, want) {
		t.Errorf("/dev inside:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	assertNoLeaks(t, r, "devices", b)
}

func TestExtraDevice(t *testing.T) {
	r := newRuntime(t)
	b := kit.NewBundle(t)
	b.Spec.Linux.Devices = []specs.LinuxDevice{{
		Path: "/dev/berthtest", Type: "c", Major: 1, Minor: 7,
		FileMode: ptr(os.FileMode(0o620)), UID: ptr(uint32(1000)), GID: ptr(uint32(1000)),
	}}
	b.Spec.Process.Args = []string{"/probe", "stat", "/dev/berthtest"}
	out, errs, code := r.runOutput(b, "extra-device")
	if code != 0 {
		t.Fatalf("run: exit %d: %s", code, errs)
	}
	var st probeStat
	decodeJSON(t, out, &st)
	if st.Type != "char" || st.Mode != "0620" || st.UID != 1000 || st.GID != 1000 ||
		st.Major == nil || *st.Major != 1 || st.Minor == nil || *st.Minor != 7 {
		t.Errorf("/dev/berthtest: %s, want char 1:7 mode 0620 owned by 1000:1000", out)
	}
	assertNoLeaks(t, r, "extra-device", b)
}

func TestDeviceCgroup(t *testing.T) {
	// A kmsg node (c 1:11) made on the host and bind-mounted in: a bind
	// mount needs no mknod, so only the device cgroup decides on open.
	node := filepath.Join(t.TempDir(), "kmsg")
	if err := unix.Mknod(node, unix.S_IFCHR|0o600, int(unix.Mkdev(1, 11))); err != nil {
		t.Fatalf("mknod %s: %v", node, err)
	}
	for _, allowed := range []bool{false, true} {
		name := map[bool]string{false: "denied", true: "allowed"}[allowed]
		t.Run(name, func(t *testing.T) {
			r := newRuntime(t)
			b := kit.NewBundle(t)
			b.Spec.Mounts = append(b.Spec.Mounts, specs.Mount{Destination: "/dev/berthkmsg", Type: "bind", Source: node, Options: []string{"bind"}})
			if allowed {
				b.Spec.Linux.Resources.Devices = append(b.Spec.Linux.Resources.Devices,
					specs.LinuxDeviceCgroup{Allow: true, Type: "c", Major: ptr(int64(1)), Minor: ptr(int64(11)), Access: "w"})
			}
			// Opening kmsg write-only needs no CAP_SYSLOG.
			b.Spec.Process.Args = []string{"/bin/sh", "-c", ": > /dev/berthkmsg && echo opened"}
			out, errs, code := r.runOutput(b, "devcg-"+name)
			if allowed && (code != 0 || strings.TrimSpace(out) != "opened") {
				t.Errorf("open of an allowed device: exit %d, %q %q", code, out, errs)
			}
			if !allowed && (code == 0 || !strings.Contains(errs, "Operation not permitted")) {
				t.Errorf("open of a device not allowed: exit %d, %q %q; want EPERM", code, out, errs)
			}
			assertNoLeaks(t, r, "devcg-"+name, b)
		})
	}
}

// decodeJSON decodes the JSON object in s into v, or fails.
func decodeJSON(t *testing.T, s string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(s), v); err != nil {
		t.Fatalf("parse JSON: %v\n%s", err, s)
	}
}

// TestNoMountNamespace runs a container in the runtime's own mount
// namespace (as runc allows): its mounts hang off a bind of the rootfs in
// the host's namespace, it is chroot'ed, and delete (or a failed create)
// leaves no mount behind — where runc leaves them.
func TestNoMountNamespace(t *testing.T) {
	r := newRuntime(t)
	b := kit.NewBundle(t)
	b.Spec.Linux.Namespaces = slices.DeleteFunc(b.Spec.Linux.Namespaces, func(n specs.LinuxNamespace) bool {
		return n.Type == specs.MountNamespace
	})
	b.Spec.Linux.MaskedPaths, b.Spec.Linux.ReadonlyPaths = nil, nil
	host, err := os.Readlink("/proc/self/ns/mnt")
	if err != nil {
		t.Fatal(err)
	}
	out := r.runShell(b, "nomnt", "readlink /proc/self/ns/mnt; ls /proc/self/fd >/dev/null && echo proc-ok")
	if f := strings.Fields(out); len(f) != 2 || f[0] != host || f[1] != "proc-ok" {
		t.Errorf("inside: %q, want the host's mount namespace %s and a /proc", out, host)
	}
	assertNoLeaks(t, r, "nomnt", b)

	// masked paths would change the host's view: refused, nothing left
	b.Spec.Linux.MaskedPaths = []string{"/proc/kcore"}
	r.createFails(b, "nomnt-masked")
	assertNoLeaks(t, r, "nomnt-masked", b)

	// a create that fails after the mounts (missing binary) leaves none
	b.Spec.Linux.MaskedPaths = nil
	b.Spec.Process.Args = []string{"/nonexistent"}
	r.createFails(b, "nomnt-fail")
	assertNoLeaks(t, r, "nomnt-fail", b)
}
