package integration

// Regression tests for the classes of container escapes that OCI runtimes
// have shipped, one test per class, named after the CVE that made the class
// known. Each test fails on a runtime that has the bug; its comment says how.
// The older tests of security_test.go (TestNoFdLeaks, TestCwdEscape,
// TestProcSymlinkRefused, TestMountDestinationSymlinkStaysInRootfs,
// TestNoInheritableCapsByDefault) and exeprotect_test.go (CVE-2019-5736)
// cover the simplest case of some classes; these go further.

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/linux/mount"
	"github.com/berth-project/berth/test/kit"
)

// escapeReport is the JSON of `probe cwd-escape` (test/probe/escape.go).
type escapeReport struct {
	Escaped  bool `json:"escaped"`
	Attempts []struct {
		Via     string `json:"via"`
		Target  string `json:"target"`
		Getcwd  string `json:"getcwd"`
		Escaped bool   `json:"escaped"`
	} `json:"attempts"`
}

// checkCwdOutcome checks the result of a process (run by `what`) asked to
// start in cwd and to run `probe cwd-escape`: either the runtime refused it
// with an error naming the cwd, or the process stayed in the container.
func checkCwdOutcome(t *testing.T, what, cwd, out, errs string, code int) {
	t.Helper()
	if code != 0 {
		if !strings.Contains(errs, cwd) && !strings.Contains(errs, "cwd") {
			t.Errorf("%s: exit %d with an error that names neither the cwd nor %q: %q", what, code, cwd, errs)
		}
		return
	}
	var rep escapeReport
	decodeJSON(t, out, &rep)
	if rep.Escaped {
		t.Errorf("%s: the process reached the host's filesystem: %s", what, out)
	}
	for _, a := range rep.Attempts {
		if strings.HasPrefix(a.Getcwd, "(unreachable)") || (a.Via == "cwd" && !strings.HasPrefix(a.Getcwd, "/")) {
			t.Errorf("%s: %s: getcwd %q is outside the container", what, a.Via, a.Getcwd)
		}
	}
}

// checkOnlyStdio fails unless the probe report shows fds 0, 1 and 2 only.
func checkOnlyStdio(t *testing.T, what string, fds []probeFD) {
	t.Helper()
	var nums []int
	for _, f := range fds {
		nums = append(nums, f.FD)
	}
	if !slices.Equal(nums, []int{0, 1, 2}) {
		t.Errorf("%s: open fds %+v, want only 0, 1, 2 (nothing of the runtime's: sealed binary, state lock, sync socket, exec fifo)", what, fds)
	}
}

// startSleeper creates and starts a container of b running `probe sleep`,
// deleted when the test ends.
func startSleeper(t *testing.T, r *runtimeCLI, b *kit.Bundle, id string) {
	t.Helper()
	b.Spec.Process.Args = []string{"/probe", "sleep", "600"}
	if errs, code := r.create(b, id); code != 0 {
		t.Fatalf("create %s: exit %d: %s", id, code, errs)
	}
	t.Cleanup(func() { r.exec(nil, "delete", "-f", id) })
	r.must("start", id)
}

// TestCwdThroughLeakedFds is the CVE-2024-21626 class: runc leaked an fd
// of the host's /sys/fs/cgroup into the container's init, and a
// process.cwd (or `exec --cwd`) of /proc/self/fd/N put the process in the
// host's filesystem, reachable by "..". For every N from 3 to 20, create
// and exec must either fail naming the cwd, or leave the process inside the
// container: the probe walks ".." from its cwd and from every directory fd
// it inherited and must stay under its "/", and getcwd must not say
// "(unreachable)". A runtime that leaks a directory fd at any of those
// numbers fails here. Then no fd of the runtime may be open in the
// container's process (started by create + start, not only by run) or in
// an exec'd one.
func TestCwdThroughLeakedFds(t *testing.T) {
	r := newRuntime(t)
	t.Run("create", func(t *testing.T) {
		b := kit.NewBundle(t)
		b.Spec.Process.Args = []string{"/probe", "cwd-escape"}
		for n := 3; n <= 20; n++ {
			cwd := "/proc/self/fd/" + strconv.Itoa(n)
			id := "cwd-fd-" + strconv.Itoa(n)
			b.Spec.Process.Cwd = cwd
			out, errs, code := r.runOutput(b, id)
			checkCwdOutcome(t, "run with process.cwd "+cwd, cwd, out, errs, code)
			assertNoLeaks(t, r, id, b)
		}
	})
	t.Run("exec", func(t *testing.T) {
		b := kit.NewBundle(t)
		startSleeper(t, r, b, "cwd-exec")
		for n := 3; n <= 20; n++ {
			cwd := "/proc/self/fd/" + strconv.Itoa(n)
			out, errs, code := r.exec(nil, "exec", "--cwd", cwd, "cwd-exec", "/probe", "cwd-escape")
			checkCwdOutcome(t, "exec --cwd "+cwd, cwd, out, errs, code)
		}
		var rep probeReport
		decodeJSON(t, r.must("exec", "cwd-exec", "/probe", "report"), &rep)
		checkOnlyStdio(t, "exec'd process", rep.FDs)
		r.must("delete", "-f", "cwd-exec")
		assertNoLeaks(t, r, "cwd-exec", b)
	})
	t.Run("fds", func(t *testing.T) {
		// The container's process of create + start: its report goes to a
		// file of the host through a bind mount.
		b := kit.NewBundle(t)
		out := t.TempDir()
		b.Spec.Mounts = append(b.Spec.Mounts, specs.Mount{Destination: "/out", Type: "bind", Source: out, Options: []string{"rbind", "rw"}})
		b.Spec.Process.Args = []string{"/bin/sh", "-c", "exec /probe report > /out/report.json"}
		id := "fds-created"
		if errs, code := r.create(b, id); code != 0 {
			t.Fatalf("create: exit %d: %s", code, errs)
		}
		t.Cleanup(func() { r.exec(nil, "delete", "-f", id) })
		r.must("start", id)
		waitStopped(t, r, id)
		data, err := os.ReadFile(filepath.Join(out, "report.json"))
		if err != nil {
			t.Fatal(err)
		}
		var rep probeReport
		decodeJSON(t, string(data), &rep)
		checkOnlyStdio(t, "container process (create + start)", rep.FDs)
		r.must("delete", id)
		assertNoLeaks(t, r, id, b)
	})
}

// waitStopped waits (bounded) until container id has stopped.
func waitStopped(t *testing.T, r *runtimeCLI, id string) {
	t.Helper()
	for i := 0; i < 3000; i++ {
		if r.state(id)["status"] == "stopped" {
			return
		}
		unix.Nanosleep(&unix.Timespec{Nsec: 10_000_000}, nil)
	}
	t.Fatalf("container %s did not stop", id)
}

// hostMount is a line of the test process's (the host's) mountinfo.
type hostMount struct {
	id                   int
	root, point, fstype  string
	superOptions, source string
}

// hostMounts parses the host's /proc/self/mountinfo.
func hostMounts(t *testing.T) []hostMount {
	t.Helper()
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var ms []hostMount
	s := bufio.NewScanner(f)
	s.Buffer(make([]byte, 64*1024), 1024*1024)
	for s.Scan() {
		pre, post, ok := strings.Cut(s.Text(), " - ")
		fields, tail := strings.Fields(pre), strings.Fields(post)
		if !ok || len(fields) < 5 || len(tail) < 3 {
			continue
		}
		id, _ := strconv.Atoi(fields[0])
		ms = append(ms, hostMount{id: id, root: mount.Unescape(fields[3]), point: mount.Unescape(fields[4]),
			fstype: tail[0], source: tail[1], superOptions: tail[2]})
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	return ms
}

// mountIDs returns the set of the ids of ms.
func mountIDs(ms []hostMount) map[int]bool {
	ids := make(map[int]bool, len(ms))
	for _, m := range ms {
		ids[m.id] = true
	}
	return ids
}

// newHostMounts returns the host's mounts that are not in before and that
// match: the ones a runtime must never make on the host. Other tests (of
// other packages) may mount meanwhile; match keeps to what this test can
// tell apart.
func newHostMounts(t *testing.T, before map[int]bool, match func(hostMount) bool) []hostMount {
	t.Helper()
	var found []hostMount
	for _, m := range hostMounts(t) {
		if !before[m.id] && match(m) {
			found = append(found, m)
		}
	}
	return found
}

// undoHostMounts unmounts mounts the runtime should never have made on
// the host, on directories of this test (never "/").
func undoHostMounts(t *testing.T, ms []hostMount, under string) {
	t.Helper()
	for _, m := range ms {
		if m.point != "/" && strings.HasPrefix(m.point, under+"/") || m.point == under {
			if err := unix.Unmount(m.point, unix.MNT_DETACH); err != nil {
				t.Errorf("undo mount on %s: %v", m.point, err)
			}
		}
	}
}

// swapper keeps exchanging two names in a directory (renameat2
// RENAME_EXCHANGE) from a goroutine until stopped, at most maxSwaps times.
type swapper struct {
	stop  atomic.Bool
	done  chan struct{}
	once  sync.Once
	swaps int
	fails int
}

const maxSwaps = 20_000_000

func startSwapper(t *testing.T, dir, a, b string) *swapper {
	t.Helper()
	fd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatalf("open %s: %v", dir, err)
	}
	s := &swapper{done: make(chan struct{})}
	go func() {
		defer close(s.done)
		defer unix.Close(fd)
		for i := 0; i < maxSwaps && !s.stop.Load(); i++ {
			if unix.Renameat2(fd, a, fd, b, unix.RENAME_EXCHANGE) == nil {
				s.swaps++
			} else {
				s.fails++ // EBUSY while a name is a mount point of ours
			}
		}
	}()
	t.Cleanup(s.halt)
	return s
}

// halt stops the swapping and waits for the goroutine to end.
func (s *swapper) halt() {
	s.once.Do(func() {
		s.stop.Store(true)
		<-s.done
	})
}

// TestMountDestinationSwapRace is the CVE-2021-30465 class: runc checked a
// mount destination inside the rootfs and then mounted on the path string,
// so a container that swapped the destination for a symlink in between
// (here: a host goroutine exchanging rootfs/mnt/target, a directory, with
// rootfs/mnt/swap, a symlink, as fast as it can) got the mount outside the
// rootfs. Thirty containers are created with a tmpfs or a bind mount on
// /mnt/target while the swap runs. Each must either fail, or have the mount
// inside its rootfs: at /mnt/target or /mnt/swap (the directory may have
// been renamed since), or where the symlink leads when taken inside the
// rootfs. A vulnerable runtime's container runs without the mount (it went
// to the link's target outside the rootfs), which fails the test.
//
// With a mount namespace the symlink points to "/", the case of the CVE:
// the stray mount would land on the container's pre-pivot view of the host
// root, which no one sees afterwards — hence the check from inside. Without
// a mount namespace the mounts are made in the host's namespace: there the
// symlink points to a directory of the test on the host (never "/", so that
// a vulnerable runtime cannot hide the host's root) and the host's
// mountinfo must never show a marked mount on it, on "/", or anywhere else
// once the container is gone.
func TestMountDestinationSwapRace(t *testing.T) {
	for _, c := range []struct {
		name    string
		mountNS bool
		runs    int
	}{{"mount-namespace", true, 20}, {"host-mount-namespace", false, 10}} {
		t.Run(c.name, func(t *testing.T) {
			r := newRuntime(t)
			b := kit.NewBundle(t)
			if !c.mountNS {
				b.Spec.Linux.Namespaces = slices.DeleteFunc(b.Spec.Linux.Namespaces, func(n specs.LinuxNamespace) bool {
					return n.Type == specs.MountNamespace
				})
				b.Spec.Linux.MaskedPaths, b.Spec.Linux.ReadonlyPaths = nil, nil
			}
			mnt := filepath.Join(b.Rootfs, "mnt")
			if err := os.MkdirAll(filepath.Join(mnt, "target"), 0o755); err != nil {
				t.Fatal(err)
			}
			link, hostTarget := "/", ""
			if !c.mountNS {
				hostTarget = hostDir(t)
				link = hostTarget
				// The link's target exists inside the rootfs too: a safe
				// runtime mounts there.
				if err := os.MkdirAll(filepath.Join(b.Rootfs, hostTarget), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.Symlink(link, filepath.Join(mnt, "swap")); err != nil {
				t.Fatal(err)
			}
			src := filepath.Join(t.TempDir(), "swap-src")
			if err := os.Mkdir(src, 0o755); err != nil {
				t.Fatal(err)
			}
			// The marks of this test's mounts: a tmpfs of an unusual size, a
			// bind of src.
			const tmpfsSize = "size=4444k"
			isOurs := func(fstype, root, super string) bool {
				return fstype == "tmpfs" && strings.Contains(","+super+",", ","+tmpfsSize+",") ||
					root != "/" && strings.HasSuffix(src, root)
			}
			allowed := []string{"/mnt/target", "/mnt/swap", filepath.Clean(link)}
			before := mountIDs(hostMounts(t))
			baseMounts := b.Spec.Mounts

			sw := startSwapper(t, mnt, "target", "swap")
			created, failed := 0, 0
			for i := 0; i < c.runs; i++ {
				id := fmt.Sprintf("swap-%d", i)
				m := specs.Mount{Destination: "/mnt/target", Type: "tmpfs", Source: "tmpfs", Options: []string{tmpfsSize}}
				if i%2 == 1 {
					m = specs.Mount{Destination: "/mnt/target", Type: "bind", Source: src, Options: []string{"bind"}}
				}
				b.Spec.Mounts = append(slices.Clone(baseMounts), m)
				out, errs, code := r.runOutput(b, id)
				if code != 0 {
					failed++
					if strings.TrimSpace(errs) == "" {
						t.Errorf("%s: create failed (exit %d) without an error message", id, code)
					}
				} else {
					created++
					var rep probeReport
					decodeJSON(t, out, &rep)
					var at []string
					for _, pm := range rep.Mounts {
						if isOurs(pm.FSType, pm.Root, strings.Join(pm.SuperOptions, ",")) {
							at = append(at, pm.Mountpoint)
						}
					}
					if len(at) != 1 || !slices.Contains(allowed, at[0]) {
						t.Errorf("%s (%s mount): the container has it at %q, want once at one of %q", id, m.Type, at, allowed)
					}
				}
				stray := newHostMounts(t, before, func(hm hostMount) bool {
					return hm.point == "/" || (hostTarget != "" && strings.HasPrefix(hm.point+"/", hostTarget+"/")) ||
						isOurs(hm.fstype, hm.root, hm.superOptions)
				})
				if len(stray) > 0 {
					t.Errorf("%s (%s mount): on the host after the container is gone: %+v", id, m.Type, stray)
					undoHostMounts(t, stray, hostTarget)
				}
				assertNoLeaks(t, r, id, b)
			}
			sw.halt()
			t.Logf("%d containers created, %d refused, while %d swaps (%d refused) ran", created, failed, sw.swaps, sw.fails)
			if hostTarget != "" {
				if entries, _ := os.ReadDir(hostTarget); len(entries) != 1 || entries[0].Name() != "name" {
					t.Errorf("host directory %s changed: %v", hostTarget, entries)
				}
			}
		})
	}
}

// withoutDevTmpfs drops the /dev tmpfs from b's spec: /dev is then the
// rootfs's own directory, whose contents the image controls.
func withoutDevTmpfs(b *kit.Bundle) {
	b.Spec.Mounts = slices.DeleteFunc(b.Spec.Mounts, func(m specs.Mount) bool { return filepath.Clean(m.Destination) == "/dev" })
}

// TestMaskedPathFakeDevNull is the CVE-2025-31133 class: runc masked files
// by bind-mounting the container's /dev/null over them without checking
// that it was the null device, so an image (or a racing container) whose
// /dev/null was a symlink to /proc/sys/kernel/core_pattern got that file
// bind-mounted, writable, over a masked path. Here /dev is not a tmpfs,
// so rootfs/dev/null is the image's: a symlink to a file of a host
// directory bind-mounted at /host (the core_pattern stand-in), a symlink to
// that file's host path, a regular file — or, to reach the mask code
// itself, the real node replaced by a createContainer hook (which runs
// after the devices are made and before the masks, as a container sharing
// the mount would). Create must fail naming /dev/null, or the masked file
// must be the null device: it reads empty, and a write to it reaches no
// file. The host file and the fake are unchanged either way.
func TestMaskedPathFakeDevNull(t *testing.T) {
	const hostText, fakeText = "host-pattern\n", "fake-null\n"
	cases := []struct {
		name string
		fake func(t *testing.T, null, hostFile string) // makes rootfs/dev/null at path null
		hook bool
	}{
		{"symlink-through-bind-mount", func(t *testing.T, null, _ string) { symlinkOrFail(t, "/host/pattern", null) }, false},
		{"symlink-to-host-path", func(t *testing.T, null, hostFile string) { symlinkOrFail(t, hostFile, null) }, false},
		{"regular-file", func(t *testing.T, null, _ string) { writeOrFail(t, null, fakeText) }, false},
		{"replaced-after-devices", nil, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newRuntime(t)
			b := kit.NewBundle(t)
			withoutDevTmpfs(b)
			hostDir := t.TempDir()
			hostFile := filepath.Join(hostDir, "pattern")
			writeOrFail(t, hostFile, hostText)
			b.Spec.Mounts = append(b.Spec.Mounts, specs.Mount{Destination: "/host", Type: "bind", Source: hostDir, Options: []string{"rbind", "rw"}})
			writeOrFail(t, filepath.Join(b.Rootfs, "etc/masked"), "masked\n")
			b.Spec.Linux.MaskedPaths = append(b.Spec.Linux.MaskedPaths, "/etc/masked")
			null := filepath.Join(b.Rootfs, "dev/null")
			if c.fake != nil {
				c.fake(t, null, hostFile)
			}
			if c.hook {
				b.Spec.Hooks = &specs.Hooks{CreateContainer: []specs.Hook{{
					Path: "/bin/sh",
					Args: []string{"sh", "-c", `/bin/rm -f "$1" && /bin/ln -s /host/pattern "$1"`, "sh", null},
				}}}
			}
			// No redirection to /dev/null here: it may be the fake.
			b.Spec.Process.Args = []string{"/bin/sh", "-c", `stat -c '%F %t:%T' /etc/masked; cat /etc/masked; echo pwned > /etc/masked; cat /etc/masked`}
			id := "fake-null"
			out, errs, code := r.runOutput(b, id)
			if code != 0 {
				if !strings.Contains(errs, "/dev/null") {
					t.Errorf("run: exit %d with an error that does not name /dev/null: %q %q", code, out, errs)
				}
			} else if strings.TrimSpace(out) != "character special file 1:3" {
				t.Errorf("masked /etc/masked inside: %q (stderr %q), want the null device, empty", out, errs)
			}
			if got, err := os.ReadFile(hostFile); err != nil || string(got) != hostText {
				t.Errorf("host file %s now holds %q (%v), want %q", hostFile, got, err, hostText)
			}
			if c.name == "regular-file" {
				if got, err := os.ReadFile(null); err != nil || string(got) != fakeText {
					t.Errorf("the fake /dev/null now holds %q (%v)", got, err)
				}
			}
			assertNoLeaks(t, r, id, b)
		})
	}
}

func symlinkOrFail(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

func writeOrFail(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestProcSymlinkTargets extends TestProcSymlinkRefused (CVE-2023-27561: a
// rootfs/proc symlink sent runc's procfs mount and writes wherever it
// pointed) to the targets "/" and a host path that does not exist, with
// and without a mount namespace of the container. Create must fail saying
// /proc is a symlink; no proc mount may appear on the host (on "/" or the
// target) and the missing target must stay missing. Without a mount
// namespace a vulnerable runtime mounts on the host itself: that variant
// points into the test's directory, never at "/".
func TestProcSymlinkTargets(t *testing.T) {
	for _, c := range []struct {
		name    string
		mountNS bool
		target  func(t *testing.T) string
	}{
		{"root", true, func(*testing.T) string { return "/" }},
		{"missing-host-path", true, func(t *testing.T) string { return filepath.Join(t.TempDir(), "x") }},
		{"host-dir-without-mount-namespace", false, func(t *testing.T) string { return t.TempDir() }},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newRuntime(t)
			b := kit.NewBundle(t)
			if !c.mountNS {
				b.Spec.Linux.Namespaces = slices.DeleteFunc(b.Spec.Linux.Namespaces, func(n specs.LinuxNamespace) bool {
					return n.Type == specs.MountNamespace
				})
				b.Spec.Linux.MaskedPaths, b.Spec.Linux.ReadonlyPaths = nil, nil
			}
			target := c.target(t)
			_, statErr := os.Stat(target)
			proc := filepath.Join(b.Rootfs, "proc")
			if err := os.Remove(proc); err != nil {
				t.Fatal(err)
			}
			symlinkOrFail(t, target, proc)
			before := mountIDs(hostMounts(t))
			errs := r.createFails(b, "proc-"+c.name)
			if !strings.Contains(errs, "/proc") || !strings.Contains(errs, "symlink") {
				t.Errorf("create error %q, want one saying /proc is a symlink", errs)
			}
			stray := newHostMounts(t, before, func(m hostMount) bool {
				return m.point == "/" || m.point == target || m.fstype == "proc" && strings.HasPrefix(m.point, filepath.Dir(b.Dir))
			})
			if len(stray) > 0 {
				t.Errorf("on the host after the failed create: %+v", stray)
				if target != "/" {
					undoHostMounts(t, stray, target)
				}
			}
			if _, err := os.Stat(target); (err == nil) != (statErr == nil) {
				t.Errorf("the symlink's target %s: existed %v, exists now %v", target, statErr == nil, err == nil)
			}
			if entries, _ := os.ReadDir(target); target != "/" && len(entries) != 0 {
				t.Errorf("the symlink's target %s got %d entries", target, len(entries))
			}
			assertNoLeaks(t, r, "proc-"+c.name, b)
		})
	}
}

// TestExecNoInheritableCaps extends TestNoInheritableCapsByDefault
// (CVE-2022-29162: runc gave processes started by `exec` the container's
// capabilities as inheritable ones, so a setcap'ed binary in the image
// gained them) to exec'd processes, as root and as another user: no
// inheritable or ambient capabilities unless asked for, and no bounding
// capability beyond the spec's.
func TestExecNoInheritableCaps(t *testing.T) {
	r := newRuntime(t)
	b := kit.NewBundle(t)
	startSleeper(t, r, b, "exec-caps")
	for _, user := range []string{"0:0", "1000:1000"} {
		var rep probeReport
		decodeJSON(t, r.must("exec", "--user", user, "exec-caps", "/probe", "report"), &rep)
		c := rep.Caps
		if c.Inheritable.Hex != "0000000000000000" || c.Ambient.Hex != "0000000000000000" {
			t.Errorf("exec as %s: inheritable %q ambient %q, want none", user, c.Inheritable.Names, c.Ambient.Names)
		}
		if want := b.Spec.Process.Capabilities.Bounding; !slices.Equal(sortedCopy(c.Bounding.Names), sortedCopy(want)) {
			t.Errorf("exec as %s: bounding %q, want the spec's %q", user, c.Bounding.Names, want)
		}
		if uid := strings.Split(user, ":")[0]; uid != "0" && (c.Permitted.Hex != "0000000000000000" || c.Effective.Hex != "0000000000000000") {
			t.Errorf("exec as %s: permitted %q effective %q, want none", user, c.Permitted.Names, c.Effective.Names)
		}
	}
	r.must("delete", "-f", "exec-caps")
	assertNoLeaks(t, r, "exec-caps", b)
}

// TestProcfsWritesNotRedirected is the CVE-2025-52881 class: runc wrote
// sysctls (and LSM labels) by path in the container's /proc, so a mount
// over a /proc path (from the spec, the image, or a racing container)
// redirected the write to a file of the attacker's choice. A host file is
// bind-mounted where the write would go, over a tmpfs on /proc/sys or as
// part of a host directory over /proc/sys, and the spec asks for a sysctl
// (kernel.shm_rmid_forced, of the IPC namespace) or an oom_score_adj
// (written to /proc/self/oom_score_adj, which the spec can cover too).
// Create must fail naming what it wrote, or write the container's real
// procfs; the host file must never change.
//
// Not covered: /proc/self/attr (LSM labels) is written only with an
// AppArmor profile or an SELinux label, and this host has neither.
func TestProcfsWritesNotRedirected(t *testing.T) {
	const hostText = "host-file\n"
	cases := []struct {
		name   string
		mounts func(hostDir string) []specs.Mount
		set    func(s *specs.Spec)
		want   string // in the error of a refusing create
	}{
		{"tmpfs-over-proc-sys", func(hostDir string) []specs.Mount {
			return []specs.Mount{
				{Destination: "/proc/sys", Type: "tmpfs", Source: "tmpfs", Options: []string{"size=1m"}},
				{Destination: "/proc/sys/kernel/shm_rmid_forced", Type: "bind", Source: filepath.Join(hostDir, "kernel/shm_rmid_forced"), Options: []string{"bind"}},
			}
		}, func(s *specs.Spec) { s.Linux.Sysctl = map[string]string{"kernel.shm_rmid_forced": "1"} }, "sysctl"},
		{"host-dir-over-proc-sys", func(hostDir string) []specs.Mount {
			return []specs.Mount{{Destination: "/proc/sys", Type: "bind", Source: hostDir, Options: []string{"rbind"}}}
		}, func(s *specs.Spec) { s.Linux.Sysctl = map[string]string{"kernel.shm_rmid_forced": "1"} }, "sysctl"},
		{"host-file-over-oom-score-adj", func(hostDir string) []specs.Mount {
			return []specs.Mount{{Destination: "/proc/self/oom_score_adj", Type: "bind", Source: filepath.Join(hostDir, "kernel/shm_rmid_forced"), Options: []string{"bind"}}}
		}, func(s *specs.Spec) { s.Process.OOMScoreAdj = ptr(123) }, "oom"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newRuntime(t)
			b := kit.NewBundle(t)
			hostDir := t.TempDir()
			hostFile := filepath.Join(hostDir, "kernel/shm_rmid_forced")
			if err := os.Mkdir(filepath.Dir(hostFile), 0o755); err != nil {
				t.Fatal(err)
			}
			writeOrFail(t, hostFile, hostText)
			b.Spec.Mounts = append(b.Spec.Mounts, c.mounts(hostDir)...)
			c.set(b.Spec)
			b.Spec.Process.Args = []string{"/probe", "sleep", "600"}
			id := "procfs-" + c.name
			errs, code := r.create(b, id)
			if code != 0 {
				if !strings.Contains(errs, c.want) {
					t.Errorf("create: exit %d with an error that does not name the %s write: %q", code, c.want, errs)
				}
			} else {
				t.Cleanup(func() { r.exec(nil, "delete", "-f", id) })
				pid := strconv.Itoa(int(r.state(id)["pid"].(float64)))
				if b.Spec.Linux.Sysctl != nil {
					// The container's own value, read in its IPC namespace.
					out, err := exec.Command("nsenter", "-t", pid, "--ipc", "cat", "/proc/sys/kernel/shm_rmid_forced").CombinedOutput()
					if err != nil || strings.TrimSpace(string(out)) != "1" {
						t.Errorf("kernel.shm_rmid_forced in the container's IPC namespace: %q (%v), want 1", out, err)
					}
				} else if got := readTrimmed(t, "/proc/"+pid+"/oom_score_adj"); got != "123" {
					t.Errorf("oom_score_adj of the container's process %s, want 123", got)
				}
				r.must("delete", "-f", id)
			}
			if got, err := os.ReadFile(hostFile); err != nil || string(got) != hostText {
				t.Errorf("host file %s now holds %q (%v), want %q", hostFile, got, err, hostText)
			}
			assertNoLeaks(t, r, id, b)
		})
	}
}

func readTrimmed(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(data))
}

// TestDevConsoleSymlink is the CVE-2025-52565 class: runc bind-mounted the
// container's pty on /dev/console by path, so an image (or a racing
// container) whose /dev/console was a symlink had the pty mounted wherever
// it pointed — over a procfs file or a masked path. Here /dev is not a
// tmpfs and rootfs/dev/console is a symlink to /etc/target; a container
// with a terminal must either fail naming /dev/console or have its pty
// mounted on /dev/console itself, and nothing on /etc/target.
func TestDevConsoleSymlink(t *testing.T) {
	r := newRuntime(t)
	b := kit.NewBundle(t)
	withoutDevTmpfs(b)
	writeOrFail(t, filepath.Join(b.Rootfs, "etc/target"), "target\n")
	symlinkOrFail(t, "/etc/target", filepath.Join(b.Rootfs, "dev/console"))
	b.Spec.Process.Terminal = true
	id := "console-symlink"
	out, errs, code := r.runOutput(b, id)
	if code != 0 {
		if !strings.Contains(errs, "/dev/console") {
			t.Errorf("run: exit %d with an error that does not name /dev/console: %q %q", code, out, errs)
		}
	} else {
		var rep probeReport
		decodeJSON(t, out, &rep)
		for _, m := range rep.Mounts {
			if m.Mountpoint == "/etc/target" {
				t.Errorf("a mount on /etc/target, where the /dev/console symlink points: %+v", m)
			}
		}
		if m := rep.mount(t, "/dev/console"); m.FSType != "devpts" {
			t.Errorf("/dev/console is a %s mount, want the pty (devpts)", m.FSType)
		}
	}
	if got, err := os.ReadFile(filepath.Join(b.Rootfs, "etc/target")); err != nil || string(got) != "target\n" {
		t.Errorf("/etc/target of the rootfs now holds %q (%v)", got, err)
	}
	assertNoLeaks(t, r, id, b)
}
