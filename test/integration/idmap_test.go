package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/test/kit"
)

// The container's mapping in these tests: its 0–65535 are host 100000–165535.
var idmapContainer = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}

// idmapBundle is a bundle with a new user namespace mapped as
// idmapContainer, its rootfs chowned to match.
func idmapBundle(t *testing.T) *kit.Bundle {
	t.Helper()
	b := kit.NewBundle(t)
	setNamespace(b, specs.UserNamespace, "")
	b.Spec.Linux.UIDMappings = idmapContainer
	b.Spec.Linux.GIDMappings = idmapContainer
	shiftOwners(t, b.Rootfs, 100000)
	// The scripts chown and change their ids.
	c := b.Spec.Process.Capabilities
	more := []string{"CAP_CHOWN", "CAP_SETUID", "CAP_SETGID"}
	c.Bounding, c.Effective, c.Permitted = append(c.Bounding, more...), append(c.Effective, more...), append(c.Permitted, more...)
	for _, d := range []string{b.Dir, filepath.Dir(b.Dir)} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

// ownedTree makes a host directory holding files "root" (0:0) and "user"
// (1000:1000).
func ownedTree(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for name, id := range map[string]int{"root": 0, "user": 1000} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(name), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(p, id, id); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func hostOwner(t *testing.T, path string) string {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Lstat(path, &st); err != nil {
		t.Fatalf("stat %s: %v", path, err)
	}
	return fmt.Sprintf("%d:%d", st.Uid, st.Gid)
}

// runIDMapped runs script in b; where the kernel cannot idmap the test's
// filesystem (tmpfs before Linux 6.3, as in the test VM), it checks that
// the runtime says so, naming the mount, and skips.
func runIDMapped(t *testing.T, r *runtimeCLI, b *kit.Bundle, id, dir, script string) string {
	t.Helper()
	b.Spec.Process.Args = []string{"/bin/sh", "-c", script}
	out, errs, code := r.runOutput(b, id)
	if code == 0 {
		return out
	}
	if !idmapUnsupported(dir) {
		t.Fatalf("run %s: sh -c %q: exit %d: %s%s", id, script, code, out, errs)
	}
	if !strings.Contains(errs, "does not support idmapped mounts") || !strings.Contains(errs, dir) {
		t.Fatalf("run %s on a filesystem without idmap support: %q, want an error naming %s", id, errs, dir)
	}
	assertNoLeaks(t, r, id, b)
	t.Skipf("the kernel cannot idmap %s (tmpfs before Linux 6.3); the runtime said: %s", dir, strings.TrimSpace(errs))
	return ""
}

// idmapUnsupported reports whether dir is on tmpfs or ramfs of a kernel
// older than 6.3, which cannot idmap them.
func idmapUnsupported(dir string) bool {
	var fs unix.Statfs_t
	if unix.Statfs(dir, &fs) != nil || (fs.Type != unix.TMPFS_MAGIC && fs.Type != unix.RAMFS_MAGIC) {
		return false
	}
	var u unix.Utsname
	if unix.Uname(&u) != nil {
		return false
	}
	var major, minor int
	for i, part := range strings.SplitN(unix.ByteSliceToString(u.Release[:]), ".", 3)[:2] {
		n := 0
		for _, c := range part {
			if c < '0' || c > '9' {
				break
			}
			n = n*10 + int(c-'0')
		}
		if i == 0 {
			major = n
		} else {
			minor = n
		}
	}
	return fs.Type == unix.RAMFS_MAGIC || major < 6 || (major == 6 && minor < 3)
}

func TestIDMapMount(t *testing.T) {
	r := newRuntime(t)
	b := idmapBundle(t)
	dir := ownedTree(t)
	b.Spec.Mounts = append(b.Spec.Mounts, specs.Mount{Destination: "/data", Type: "bind", Source: dir, Options: []string{"bind", "idmap"}})
	out := runIDMapped(t, r, b, "idmap", dir, `stat -c %u:%g /data/root /data/user; echo ---
touch /data/made-by-root /data/made-by-1000; busybox chown 1000:1000 /data/made-by-1000; echo ---
grep ' /data ' /proc/self/mountinfo`)
	parts := strings.Split(out, "---")
	if len(parts) != 3 {
		t.Fatalf("container output %q", out)
	}
	if got := strings.Fields(parts[0]); strings.Join(got, " ") != "0:0 1000:1000" {
		t.Errorf("owners inside %q, want the host's 0:0 and 1000:1000 (unshifted)", got)
	}
	if !strings.Contains(parts[2], "idmapped") {
		t.Errorf("mount /data is not idmapped: %q", parts[2])
	}
	// Through the container's own mapping, its ids reach the disk as they
	// are: what its root and its 1000 write is 0 and 1000 on the host.
	if got := hostOwner(t, filepath.Join(dir, "made-by-root")); got != "0:0" {
		t.Errorf("file made by the container's root is %s on the host, want 0:0", got)
	}
	if got := hostOwner(t, filepath.Join(dir, "made-by-1000")); got != "1000:1000" {
		t.Errorf("file chowned to 1000 in the container is %s on the host, want 1000:1000", got)
	}
	assertNoLeaks(t, r, "idmap", b)
}

func TestIDMapRecursive(t *testing.T) {
	r := newRuntime(t)
	b := idmapBundle(t)
	dir := ownedTree(t)
	sub := ownedTree(t)
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount(sub, filepath.Join(dir, "sub"), "", unix.MS_BIND, ""); err != nil {
		t.Fatalf("bind %s: %v", sub, err)
	}
	t.Cleanup(func() { _ = unix.Unmount(filepath.Join(dir, "sub"), unix.MNT_DETACH) })
	b.Spec.Mounts = append(b.Spec.Mounts,
		specs.Mount{Destination: "/r", Type: "bind", Source: dir, Options: []string{"rbind", "ridmap"}},
		specs.Mount{Destination: "/i", Type: "bind", Source: dir, Options: []string{"rbind", "idmap"}})
	out := runIDMapped(t, r, b, "ridmap", dir, "stat -c %u:%g /r/user /r/sub/user /i/user /i/sub/user")
	// ridmap maps the submount too; idmap only the top mount, so the
	// submount's 1000 is unmapped in the container (the overflow id).
	want := "1000:1000 1000:1000 1000:1000 65534:65534"
	if got := strings.Join(strings.Fields(out), " "); got != want {
		t.Errorf("owners inside %q, want %q", got, want)
	}
	assertNoLeaks(t, r, "ridmap", b)
}

func TestIDMapOwnMappings(t *testing.T) {
	r := newRuntime(t)
	b := idmapBundle(t)
	dir := ownedTree(t)
	// The mount maps disk ids 0–65535 to host 101000–166535, which the
	// container (0 → 100000) sees as 1000–66535: shifted by 1000.
	own := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 101000, Size: 65536}}
	b.Spec.Mounts = append(b.Spec.Mounts, specs.Mount{Destination: "/data", Type: "bind", Source: dir,
		Options: []string{"bind"}, UIDMappings: own, GIDMappings: own})
	// The container's root (host 100000) is outside the mount's mapping and
	// cannot create files there (EOVERFLOW); its 1000 writes disk id 0.
	out := runIDMapped(t, r, b, "idmap-own", dir, `stat -c %u:%g /data/root /data/user
touch /data/by-root 2>/dev/null && echo created-by-root
busybox su -s /bin/sh -c "touch /data/by-1000" berth`)
	if got := strings.Join(strings.Fields(out), " "); got != "1000:1000 2000:2000" {
		t.Errorf("container output %q, want owners 1000:1000 2000:2000 (the mount's own mapping) and no file made by root", got)
	}
	if got := hostOwner(t, filepath.Join(dir, "by-1000")); got != "0:0" {
		t.Errorf("file made by the container's 1000 is %s on the host, want 0:0", got)
	}
	assertNoLeaks(t, r, "idmap-own", b)
}

func TestIDMapBadInput(t *testing.T) {
	r := newRuntime(t)
	dir := ownedTree(t)
	for _, c := range []struct {
		name  string
		edit  func(b *kit.Bundle)
		wants []string
	}{
		{"no user namespace", func(b *kit.Bundle) {
			b.Spec.Mounts = append(b.Spec.Mounts, specs.Mount{Destination: "/data", Type: "bind", Source: dir, Options: []string{"bind", "idmap"}})
		}, []string{dir, "/data", "user namespace"}},
		{"not a bind mount", func(b *kit.Bundle) {
			setNamespace(b, specs.UserNamespace, "")
			b.Spec.Linux.UIDMappings, b.Spec.Linux.GIDMappings = idmapContainer, idmapContainer
			b.Spec.Mounts = append(b.Spec.Mounts, specs.Mount{Destination: "/scratch", Type: "tmpfs", Source: "tmpfs", Options: []string{"idmap"}})
		}, []string{"/scratch", "bind mounts only"}},
		{"uid mappings alone", func(b *kit.Bundle) {
			setNamespace(b, specs.UserNamespace, "")
			b.Spec.Linux.UIDMappings, b.Spec.Linux.GIDMappings = idmapContainer, idmapContainer
			b.Spec.Mounts = append(b.Spec.Mounts, specs.Mount{Destination: "/data", Type: "bind", Source: dir, Options: []string{"bind"}, UIDMappings: idmapContainer})
		}, []string{"/data", "gidMappings"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := kit.NewBundle(t)
			c.edit(b)
			errs := r.createFails(b, "idmap-bad")
			t.Logf("create: %s", strings.TrimSpace(errs))
			for _, w := range c.wants {
				if !strings.Contains(errs, w) {
					t.Errorf("error %q does not mention %q", errs, w)
				}
			}
			assertNoLeaks(t, r, "idmap-bad", b)
		})
	}
	// A source that cannot be idmapped fails after the init started: the
	// runtime must still leave nothing.
	b := idmapBundle(t)
	b.Spec.Mounts = append(b.Spec.Mounts, specs.Mount{Destination: "/proc-data", Type: "bind", Source: "/proc", Options: []string{"rbind", "ridmap"}})
	errs := r.createFails(b, "idmap-refused")
	t.Logf("create: %s", strings.TrimSpace(errs))
	if !strings.Contains(errs, "/proc-data") {
		t.Errorf("error %q does not name the mount", errs)
	}
	assertNoLeaks(t, r, "idmap-refused", b)
}
