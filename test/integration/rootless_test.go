package integration

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-project/berth/internal/testenv"
	"github.com/berth-project/berth/test/kit"
)

// rootlessUser is an unprivileged user made for one test: a home dir that
// holds its bundles and its runtime dir ($XDG_RUNTIME_DIR), a copy of
// berth-runtime it may run, and a range of subordinate ids in /etc/subuid
// and /etc/subgid. All of it goes when the test ends.
type rootlessUser struct {
	t        testing.TB
	name     string
	uid, gid int
	home     string
	runDir   string
	bin      string
	subID    int // first id of the range in /etc/subuid and /etc/subgid
	subCount int
	// cgroup, when set, is an open cgroup v2 dir that every berth-runtime
	// the user runs is born in (CLONE_INTO_CGROUP), as a delegated login
	// session's processes are.
	cgroup *os.File
}

// newRootlessUser adds a user berth-rl-<random> (useradd gives it a
// subordinate range when login.defs has SUB_UID_COUNT; otherwise usermod
// adds one). The cleanup checks that the user left no container state and
// no process behind, then removes the user, its subordinate ids and home.
func newRootlessUser(t testing.TB) *rootlessUser {
	t.Helper()
	testenv.RequiresRoot(t)
	for _, b := range []string{"useradd", "userdel", "usermod", "newuidmap", "newgidmap"} {
		testenv.RequiresBinary(t, b)
	}
	home, err := os.MkdirTemp("", "berth-rl-")
	if err != nil {
		t.Fatal(err)
	}
	u := &rootlessUser{t: t, name: "berth-rl-" + newMark()[:8], home: home, runDir: filepath.Join(home, "run")}
	t.Cleanup(func() { os.RemoveAll(home) })
	hostRun(t, "useradd", "--no-create-home", "--home-dir", home, "--shell", "/bin/sh", "--user-group", u.name)
	t.Cleanup(u.remove)
	if u.uid, err = lookupID("/etc/passwd", u.name); err != nil {
		t.Fatal(err)
	}
	if u.gid, err = lookupID("/etc/group", u.name); err != nil {
		t.Fatal(err)
	}
	u.subID, u.subCount = subIDRange(u.name)
	if u.subCount < 65536 {
		r := "3000000-3065535"
		hostRun(t, "usermod", "--add-subuids", r, "--add-subgids", r, u.name)
		u.subID, u.subCount = subIDRange(u.name)
	}
	if err := os.Mkdir(u.runDir, 0o700); err != nil {
		t.Fatal(err)
	}
	// The test binary's own dirs are root's and 0700: the binary is copied
	// to where the user can run it.
	u.bin = filepath.Join(home, "berth-runtime")
	copyFile(t, testenv.Binary(t, "berth-runtime"), u.bin, 0o755)
	if err := os.Chmod(home, 0o755); err != nil {
		t.Fatal(err)
	}
	u.chown(t, home)
	return u
}

// remove checks for leftovers, then deletes the user (userdel drops its
// /etc/subuid and /etc/subgid lines too).
func (u *rootlessUser) remove() {
	t := u.t
	entries, _ := os.ReadDir(filepath.Join(u.runDir, "berth-runtime"))
	for _, e := range entries {
		t.Errorf("container %q left in the user's runtime dir", e.Name())
		u.exec(t, nil, "delete", "--force", e.Name())
	}
	for _, pid := range u.processes() {
		status, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		t.Errorf("process %d of user %s left behind: %s", pid, u.name, status)
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	if out, err := exec.Command("userdel", u.name).CombinedOutput(); err != nil {
		t.Errorf("userdel %s: %v: %s", u.name, err, out)
	}
	for _, f := range []string{"/etc/subuid", "/etc/subgid"} {
		data, _ := os.ReadFile(f)
		if strings.Contains(string(data), u.name+":") {
			t.Errorf("%s still lists %s", f, u.name)
		}
	}
}

// processes lists the live pids whose real uid is the user's (the user is
// new: they are the test's; its subordinate ids may be in use by other
// tests, and zombies are the host init's to reap).
func (u *rootlessUser) processes() []int {
	var pids []int
	dirs, _ := os.ReadDir("/proc")
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		status, err := os.ReadFile("/proc/" + d.Name() + "/status")
		if err != nil {
			continue
		}
		if strings.Contains(string(status), "\nState:\tZ") {
			continue // dead, waiting for the host's init to reap it
		}
		if uid, ok := statusUID(string(status)); ok && uid == u.uid {
			pids = append(pids, pid)
		}
	}
	return pids
}

// statusUID returns the real uid of a /proc/<pid>/status.
func statusUID(status string) (int, bool) {
	for _, line := range strings.Split(status, "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[0] == "Uid:" {
			uid, err := strconv.Atoi(f[1])
			return uid, err == nil
		}
	}
	return 0, false
}

func (u *rootlessUser) chown(t testing.TB, root string) {
	t.Helper()
	err := filepath.WalkDir(root, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, u.uid, u.gid)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// exec runs berth-runtime as the user, without --root (the default under
// $XDG_RUNTIME_DIR), from dir; stdout and stderr are files, since a
// created container keeps them open.
func (u *rootlessUser) exec(t testing.TB, dir *string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(u.bin, args...)
	cmd.Env = []string{
		"HOME=" + u.home, "USER=" + u.name, "XDG_RUNTIME_DIR=" + u.runDir,
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	}
	cmd.Dir = u.home
	if dir != nil {
		cmd.Dir = *dir
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{
		Uid: uint32(u.uid), Gid: uint32(u.gid), Groups: []uint32{},
	}}
	if u.cgroup != nil {
		cmd.SysProcAttr.UseCgroupFD = true
		cmd.SysProcAttr.CgroupFD = int(u.cgroup.Fd())
	}
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
		t.Fatalf("run %s %v as %s: %v", u.bin, args, u.name, err)
	}
	out, _ := os.ReadFile(files[0].Name())
	errs, _ := os.ReadFile(files[1].Name())
	return string(out), string(errs), code
}

// must runs berth-runtime as the user and fails the test unless it exits 0.
func (u *rootlessUser) must(t testing.TB, args ...string) string {
	t.Helper()
	out, errs, code := u.exec(t, nil, args...)
	if code != 0 {
		t.Fatalf("berth-runtime %s (as %s): exit %d: %s", strings.Join(args, " "), u.name, code, errs)
	}
	return out
}

// bundle makes a bundle dir of the user's with a kit rootfs and the
// config.json of `spec --rootless` (run as the user), edited by edit.
func (u *rootlessUser) bundle(t testing.TB, name string, edit func(*specs.Spec)) string {
	t.Helper()
	dir := filepath.Join(u.home, name)
	kit.Rootfs(t, filepath.Join(dir, "rootfs"))
	u.chown(t, dir)
	if _, errs, code := u.exec(t, &dir, "spec", "--rootless"); code != 0 {
		t.Fatalf("spec --rootless: exit %d: %s", code, errs)
	}
	path := filepath.Join(dir, "config.json")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var s specs.Spec
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	if len(s.Linux.UIDMappings) != 1 || int(s.Linux.UIDMappings[0].HostID) != u.uid {
		t.Fatalf("spec --rootless maps uids %+v, want 0 to the user's %d", s.Linux.UIDMappings, u.uid)
	}
	s.Process.Terminal = false
	s.Process.Args = []string{"/probe", "report"}
	if edit != nil {
		edit(&s)
	}
	if data, err = json.Marshal(&s); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// status returns the status of container id from `state`.
func (u *rootlessUser) status(t testing.TB, id string) string {
	t.Helper()
	var st struct {
		Status string `json:"status"`
	}
	if err := json.Unmarshal([]byte(u.must(t, "state", id)), &st); err != nil {
		t.Fatalf("parse state of %s: %v", id, err)
	}
	return st.Status
}

// TestRootless drives berth-runtime as an unprivileged user: a spec from
// `spec --rootless`, run, the whole lifecycle with exec, a memory limit
// that cannot be applied (a warning, not a failure, on a host without
// delegation), and a map of subordinate ids (newuidmap/newgidmap).
func TestRootless(t *testing.T) {
	u := newRootlessUser(t)

	t.Run("run", func(t *testing.T) {
		dir := u.bundle(t, "run", nil)
		out, errs, code := u.exec(t, nil, "run", "--bundle", dir, "rl-run")
		if code != 0 {
			t.Fatalf("run: exit %d: %s", code, errs)
		}
		var rep probeReport
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("parse probe report: %v\n%s", err, out)
		}
		if rep.UID != 0 || rep.GID != 0 {
			t.Errorf("ids inside are %d:%d, want 0:0", rep.UID, rep.GID)
		}
		if rep.Namespaces["user"] == "" || len(rep.Errors) > 0 {
			t.Errorf("namespaces %v, errors %v", rep.Namespaces, rep.Errors)
		}
	})

	t.Run("lifecycle", func(t *testing.T) {
		dir := u.bundle(t, "life", func(s *specs.Spec) { s.Process.Args = []string{"/bin/sleep", "100"} })
		id := "rl-life"
		if _, errs, code := u.exec(t, nil, "create", "--bundle", dir, id); code != 0 {
			t.Fatalf("create: exit %d: %s", code, errs)
		}
		if _, err := os.Stat(filepath.Join(u.runDir, "berth-runtime", id, "state.json")); err != nil {
			t.Errorf("no state under $XDG_RUNTIME_DIR/berth-runtime: %v", err)
		}
		var st struct{ Pid int }
		if err := json.Unmarshal([]byte(u.must(t, "state", id)), &st); err != nil || st.Pid <= 0 {
			t.Fatalf("state of %s: pid %d, %v", id, st.Pid, err)
		}
		status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", st.Pid))
		if err != nil {
			t.Fatal(err)
		}
		if uid, _ := statusUID(string(status)); uid != u.uid {
			t.Errorf("container init runs as host uid %d, want the user's %d", uid, u.uid)
		}
		if s := u.status(t, id); s != "created" {
			t.Errorf("status %q after create, want created", s)
		}
		u.must(t, "start", id)
		if s := u.status(t, id); s != "running" {
			t.Errorf("status %q after start, want running", s)
		}
		if out := u.must(t, "exec", id, "/bin/id", "-u"); strings.TrimSpace(out) != "0" {
			t.Errorf("exec id -u: %q, want 0", out)
		}
		u.must(t, "kill", id, "KILL")
		waitUntil(t, id+" stopped", func() bool { return u.status(t, id) == "stopped" })
		u.must(t, "delete", id)
		if _, err := os.Stat(filepath.Join(u.runDir, "berth-runtime", id)); err == nil {
			t.Errorf("state of %s left after delete", id)
		}
	})

	t.Run("cgroup limits warn", func(t *testing.T) {
		limit := int64(64 << 20)
		dir := u.bundle(t, "limits", func(s *specs.Spec) {
			s.Linux.Resources = &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: &limit}}
			s.Process.Args = []string{"/bin/echo", "ran"}
		})
		out, errs, code := u.exec(t, nil, "run", "--bundle", dir, "rl-limits")
		if code != 0 || strings.TrimSpace(out) != "ran" {
			t.Fatalf("run with a memory limit: exit %d, stdout %q: %s", code, out, errs)
		}
		if !strings.Contains(errs, "level=warning") || !strings.Contains(errs, "linux.resources.memory is not applied") {
			t.Errorf("no warning that the memory limit is not applied; stderr:\n%s", errs)
		}
	})

	t.Run("subordinate ids", func(t *testing.T) {
		dir := u.bundle(t, "subids", func(s *specs.Spec) {
			s.Linux.UIDMappings = []specs.LinuxIDMapping{
				{ContainerID: 0, HostID: uint32(u.uid), Size: 1},
				{ContainerID: 1, HostID: uint32(u.subID), Size: 65536},
			}
			s.Linux.GIDMappings = []specs.LinuxIDMapping{
				{ContainerID: 0, HostID: uint32(u.gid), Size: 1},
				{ContainerID: 1, HostID: uint32(u.subID), Size: 65536},
			}
			s.Process.Args = []string{"/bin/sh", "-c", "id -u; stat -c %u:%g /home/berth"}
		})
		// container 1000 is subordinate id 999 (container 1 is the first)
		if err := os.Lchown(filepath.Join(dir, "rootfs/home/berth"), u.subID+999, u.subID+999); err != nil {
			t.Fatal(err)
		}
		out, errs, code := u.exec(t, nil, "run", "--bundle", dir, "rl-subids")
		if code != 0 {
			t.Fatalf("run with subordinate ids: exit %d: %s", code, errs)
		}
		if lines := readLines(out); len(lines) != 2 || lines[0] != "0" || lines[1] != "1000:1000" {
			t.Errorf("id -u and owner of a file of subordinate id %d: %q, want 0 and 1000:1000", u.subID+999, out)
		}
		// exec joins the same namespaces: the same ids
		id := "rl-subids-exec"
		if err := os.WriteFile(filepath.Join(dir, "config.json"), specWithArgs(t, dir, "/bin/sleep", "100"), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, errs, code := u.exec(t, nil, "run", "--detach", "--bundle", dir, id); code != 0 {
			t.Fatalf("run -d: exit %d: %s", code, errs)
		}
		out = u.must(t, "exec", "--user", "1000:1000", id, "/bin/sh", "-c", "id -u; stat -c %u:%g /home/berth")
		if lines := readLines(out); len(lines) != 2 || lines[0] != "1000" || lines[1] != "1000:1000" {
			t.Errorf("exec --user 1000: id -u and owner of /home/berth: %q, want 1000 and 1000:1000", out)
		}
		u.must(t, "kill", id, "KILL")
		waitUntil(t, id+" stopped", func() bool { return u.status(t, id) == "stopped" })
		u.must(t, "delete", id)
	})
}

// specWithArgs returns bundle dir's config.json with process.args replaced.
func specWithArgs(t testing.TB, dir string, args ...string) []byte {
	t.Helper()
	var s specs.Spec
	data, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err == nil {
		err = json.Unmarshal(data, &s)
	}
	if err != nil {
		t.Fatal(err)
	}
	s.Process.Args = args
	if data, err = json.Marshal(&s); err != nil {
		t.Fatal(err)
	}
	return data
}

func readLines(s string) []string {
	var lines []string
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines
}

// hostRun runs a host command as root, failing the test on error.
func hostRun(t testing.TB, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v: %s", name, strings.Join(args, " "), err, out)
	}
}

// lookupID returns the id of name in an /etc/passwd-like file.
func lookupID(file, name string) (int, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Split(line, ":")
		if len(f) > 2 && f[0] == name {
			return strconv.Atoi(f[2])
		}
	}
	return 0, fmt.Errorf("%s: no entry for %s", file, name)
}

// subIDRange returns the first range of name in /etc/subuid that
// /etc/subgid also has (0, 0 when there is none).
func subIDRange(name string) (int, int) {
	ranges := func(file string) map[string]bool {
		m := map[string]bool{}
		data, _ := os.ReadFile(file)
		for _, line := range strings.Split(string(data), "\n") {
			if rest, ok := strings.CutPrefix(line, name+":"); ok {
				m[rest] = true
			}
		}
		return m
	}
	gids := ranges("/etc/subgid")
	data, _ := os.ReadFile("/etc/subuid")
	for _, line := range strings.Split(string(data), "\n") {
		rest, ok := strings.CutPrefix(line, name+":")
		if !ok || !gids[rest] {
			continue
		}
		first, count, _ := strings.Cut(rest, ":")
		a, err1 := strconv.Atoi(first)
		n, err2 := strconv.Atoi(count)
		if err1 == nil && err2 == nil {
			return a, n
		}
	}
	return 0, 0
}

func copyFile(t testing.TB, from, to string, mode os.FileMode) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, mode); err != nil {
		t.Fatal(err)
	}
}
