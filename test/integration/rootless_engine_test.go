package integration

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/berth-project/berth/internal/testenv"
	"github.com/berth-project/berth/test/kit"
)

// rootlessBerth is the berth engine driven as an unprivileged user made for
// the test (newRootlessUser): copies of berth, berth-monitor and
// berth-runtime in the user's ~/bin, and berth's rootless defaults (no
// --root: ~/.local/share/berth and $XDG_RUNTIME_DIR/berth).
type rootlessBerth struct {
	u   *rootlessUser
	bin string
}

// newRootlessBerth makes the user and its binaries. When the test ends,
// before the user goes: the pause process (the user's namespaces) is
// killed, after a check that no mount is left under the user's home in its
// mount namespace.
func newRootlessBerth(t *testing.T) *rootlessBerth {
	t.Helper()
	u := newRootlessUser(t)
	bin := filepath.Join(u.home, "bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"berth", "berth-monitor", "berth-runtime"} {
		copyFile(t, testenv.Binary(t, name), filepath.Join(bin, name), 0o755)
	}
	u.chown(t, bin)
	b := &rootlessBerth{u: u, bin: filepath.Join(bin, "berth")}
	t.Cleanup(b.endPause)
	return b
}

// run runs berth as the user from its home and returns stdout, stderr and
// the exit code (stdout and stderr are files: a detached container's
// monitor may keep them open).
func (b *rootlessBerth) run(t testing.TB, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, b.bin, args...)
	cmd.Env = []string{
		"HOME=" + b.u.home, "USER=" + b.u.name, "XDG_RUNTIME_DIR=" + b.u.runDir,
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	}
	cmd.Dir = b.u.home
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{
		Uid: uint32(b.u.uid), Gid: uint32(b.u.gid), Groups: []uint32{},
	}}
	tmp := t.TempDir()
	var files [2]*os.File
	for i := range files {
		f, err := os.Create(filepath.Join(tmp, strconv.Itoa(i)))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		files[i] = f
	}
	cmd.Stdout, cmd.Stderr = files[0], files[1]
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("berth %v as %s: %v", args, b.u.name, err)
	}
	out, _ := os.ReadFile(files[0].Name())
	errs, _ := os.ReadFile(files[1].Name())
	return string(out), string(errs), code
}

// must is run that fails the test unless berth exits 0; it returns stdout.
func (b *rootlessBerth) must(t testing.TB, args ...string) string {
	t.Helper()
	out, errs, code := b.run(t, args...)
	if code != 0 {
		t.Fatalf("berth %s (as %s): exit %d: %s%s", strings.Join(args, " "), b.u.name, code, out, errs)
	}
	return out
}

// pausePid returns the pid in the user's pause.pid (0 when none).
func (b *rootlessBerth) pausePid() int {
	data, err := os.ReadFile(filepath.Join(b.u.runDir, "berth", "pause.pid"))
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(data)))
	return pid
}

// endPause checks the user's mount namespace for mounts left under its
// home, then kills the pause process (SIGTERM) and waits until it is gone.
func (b *rootlessBerth) endPause() {
	t := b.u.t
	pid := b.pausePid()
	if pid == 0 {
		return
	}
	if mi, err := os.ReadFile(fmt.Sprintf("/proc/%d/mountinfo", pid)); err == nil {
		for _, line := range strings.Split(string(mi), "\n") {
			if f := strings.Fields(line); len(f) > 4 && strings.HasPrefix(f[4], b.u.home+"/") {
				t.Errorf("mount left in the user's namespace: %s", line)
			}
		}
	}
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		t.Errorf("kill the pause process %d: %v", pid, err)
		return
	}
	for i := 0; i < 500; i++ {
		if !processLive(pid) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Errorf("pause process %d still runs after SIGTERM", pid)
}

// processLive reports whether pid runs (and is no zombie).
func processLive(pid int) bool {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	return err == nil && !strings.Contains(string(status), "\nState:\tZ")
}

// hostUIDOf returns the real uid of a host process.
func hostUIDOf(t *testing.T, pid int) int {
	t.Helper()
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	uid, ok := statusUID(string(status))
	if !ok {
		t.Fatalf("no Uid line in /proc/%d/status", pid)
	}
	return uid
}

// TestRootlessEngine drives the whole engine as an unprivileged user: its
// namespaces and their pause process, a pull into ~/.local/share/berth, a
// container whose root is the user, a detached one through ps, exec, logs,
// stop and rm, a bind mount of the user's home, host networking, and an
// image prune that leaves nothing.
func TestRootlessEngine(t *testing.T) {
	testenv.RequiresRoot(t)
	busybox := seedKit(t, kit.BusyboxImage(t, ""))
	b := newRootlessBerth(t)
	u := b.u

	b.must(t, "pull", busybox.ref)
	pause := b.pausePid()
	if pause == 0 || !processLive(pause) {
		t.Fatalf("no pause process after the first command (pause.pid: %d)", pause)
	}
	if got := hostUIDOf(t, pause); got != u.uid {
		t.Errorf("pause process runs as host uid %d, want the user's %d", got, u.uid)
	}
	uidMap, err := os.ReadFile(fmt.Sprintf("/proc/%d/uid_map", pause))
	if err != nil {
		t.Fatal(err)
	}
	if f := strings.Fields(string(uidMap)); len(f) != 6 || f[0] != "0" || f[1] != strconv.Itoa(u.uid) || f[2] != "1" ||
		f[3] != "1" || f[4] != strconv.Itoa(u.subID) || f[5] != strconv.Itoa(u.subCount) {
		t.Errorf("uid map of the user namespace: %q, want 0 %d 1 and 1 %d %d", uidMap, u.uid, u.subID, u.subCount)
	}
	storage := filepath.Join(u.home, ".local", "share", "berth")
	if _, err := os.Stat(filepath.Join(storage, "berth.db")); err != nil {
		t.Errorf("rootless storage root: %v", err)
	}
	if _, err := os.Stat(filepath.Join(storage, "snapshots", "overlay")); err != nil {
		t.Errorf("rootless storage has no overlay snapshots: %v", err)
	}
	if out := b.must(t, "images", "--format", "{{.Repository}}:{{.Tag}}"); !strings.Contains(out, busybox.ref) {
		t.Errorf("images after the pull: %q", out)
	}

	t.Run("root inside", func(t *testing.T) {
		out := b.must(t, "run", "--rm", busybox.ref, "id")
		if !strings.HasPrefix(out, "uid=0(root) gid=0(root)") {
			t.Errorf("id in a rootless container: %q", out)
		}
		if b.pausePid() != pause {
			t.Errorf("pause process changed: %d, was %d", b.pausePid(), pause)
		}
	})

	t.Run("detached", func(t *testing.T) {
		b.must(t, "run", "-d", "--name", "sleeper", busybox.ref, "sh", "-c", "echo hello from rootless; exec sleep 1000")
		defer b.run(t, "rm", "-f", "sleeper")
		if out := b.must(t, "ps", "--format", "{{.Names}} {{.Status}}"); !strings.Contains(out, "sleeper Up") {
			t.Errorf("ps: %q", out)
		}
		if out := b.must(t, "exec", "sleeper", "id", "-u"); strings.TrimSpace(out) != "0" {
			t.Errorf("exec id -u: %q", out)
		}
		pid, err := strconv.Atoi(strings.TrimSpace(b.must(t, "inspect", "--format", "{{.State.Pid}}", "sleeper")))
		if err != nil || pid <= 0 {
			t.Fatalf("inspect pid: %v", err)
		}
		if got := hostUIDOf(t, pid); got != u.uid {
			t.Errorf("the container's process runs as host uid %d, want the user's %d", got, u.uid)
		}
		for i := 0; !strings.Contains(b.must(t, "logs", "sleeper"), "hello from rootless"); i++ {
			if i == 100 {
				t.Fatalf("logs: no line from the container")
			}
			time.Sleep(50 * time.Millisecond)
		}
		b.must(t, "stop", "-t", "1", "sleeper")
		if out := b.must(t, "ps", "-a", "--format", "{{.Names}} {{.Status}}"); !strings.Contains(out, "sleeper Exited") {
			t.Errorf("ps -a after stop: %q", out)
		}
		b.must(t, "rm", "sleeper")
		if out := b.must(t, "ps", "-a", "-q"); strings.TrimSpace(out) != "" {
			t.Errorf("ps -a after rm: %q", out)
		}
	})

	t.Run("bind mount of home", func(t *testing.T) {
		dir := filepath.Join(u.home, "data")
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		u.chown(t, dir)
		b.must(t, "run", "--rm", "-v", dir+":/data", busybox.ref, "sh", "-c", "echo made inside > /data/f && mkdir /data/d")
		owner := func(name string) (int, int) {
			var st syscall.Stat_t
			if err := syscall.Lstat(filepath.Join(dir, name), &st); err != nil {
				t.Fatal(err)
			}
			return int(st.Uid), int(st.Gid)
		}
		for _, name := range []string{"f", "d"} {
			if uid, gid := owner(name); uid != u.uid || gid != u.gid {
				t.Errorf("%s made by the container is owned by %d:%d, want the user's %d:%d", name, uid, gid, u.uid, u.gid)
			}
		}
		// The container's uid 1000 is the user's subordinate id 999 on
		// the host (0 is the user, 1… the range).
		if err := os.Chmod(dir, 0o777); err != nil {
			t.Fatal(err)
		}
		b.must(t, "run", "--rm", "--user", "1000:1000", "-v", dir+":/data", busybox.ref, "touch", "/data/u1000")
		if uid, gid := owner("u1000"); uid != u.subID+999 || gid != u.subID+999 {
			t.Errorf("a file of the container's 1000:1000 is owned by %d:%d on the host, want %d:%d", uid, gid, u.subID+999, u.subID+999)
		}
	})

	t.Run("relative paths", func(t *testing.T) {
		// berth runs from the user's home: a relative path names a file
		// there, though berth re-executed itself into its mount namespace.
		b.must(t, "save", "-o", "saved.tar", busybox.ref)
		var st syscall.Stat_t
		if err := syscall.Stat(filepath.Join(u.home, "saved.tar"), &st); err != nil {
			t.Fatalf("save -o saved.tar from the home dir: %v", err)
		}
		if int(st.Uid) != u.uid || st.Size == 0 {
			t.Errorf("saved.tar: owner %d, %d bytes", st.Uid, st.Size)
		}
	})

	t.Run("networks", func(t *testing.T) {
		hostNet, err := os.Readlink("/proc/self/ns/net")
		if err != nil {
			t.Fatal(err)
		}
		out := b.must(t, "run", "--rm", "--network", "none", busybox.ref, "sh", "-c", "readlink /proc/self/ns/net; ls /sys/class/net")
		if f := strings.Fields(out); len(f) != 2 || f[0] == hostNet || f[1] != "lo" {
			t.Errorf("--network none: %q, want a namespace of its own (not %s) with lo only", out, hostNet)
		}
		out = b.must(t, "run", "--rm", "--network", "host", busybox.ref, "readlink", "/proc/self/ns/net")
		if strings.TrimSpace(out) != hostNet {
			t.Errorf("--network host: the container is in %q, want the host's %s", out, hostNet)
		}
	})

	if out := b.must(t, "ps", "-a", "-q"); strings.TrimSpace(out) != "" {
		t.Errorf("containers left: %q", out)
	}
	b.must(t, "image", "prune", "-a", "-f")
	if out := b.must(t, "images", "-q"); strings.TrimSpace(out) != "" {
		t.Errorf("images after prune -a: %q", out)
	}
	for _, dir := range []string{
		filepath.Join(u.runDir, "berth", "containers"), filepath.Join(u.runDir, "berth", "netns"),
		filepath.Join(storage, "containers"),
	} {
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("%s left: %v", dir, entries)
		}
	}
	if entries, _ := os.ReadDir(filepath.Join(storage, "snapshots", "overlay", "snapshots")); len(entries) != 0 {
		t.Errorf("snapshots left after prune -a: %d", len(entries))
	}
}
