package integration

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-project/berth/internal/linux/cgroups"
	"github.com/berth-project/berth/internal/testenv"
)

// TestRootlessDelegatedCgroup2 runs berth-runtime as an unprivileged uid that
// was delegated a cgroup v2 subtree, as systemd delegates user@.service:
// root makes /sys/fs/cgroup/berth-rl-<rand> with the leaves cli (where the
// user's berth-runtime is born) and containers, enables memory, pids and
// cpu below both, and chowns the dirs and their cgroup.procs,
// cgroup.subtree_control and cgroup.threads to the uid. A container whose
// linux.cgroupsPath is inside containers must then get its limits applied,
// with no cgroup warning, and delete must remove its cgroup.
//
// The uid (4242) needs no /etc/passwd entry and the spec maps only it, to 0
// in the container, so no useradd and no newuidmap: this runs in the
// cgroup v2 guest (make test-cgroup2), which has neither.
func TestRootlessDelegatedCgroup2(t *testing.T) {
	testenv.RequiresRoot(t)
	// Only a unified host can delegate a v2 subtree. This host kind is no
	// missing requirement (on the v1 hybrid development host the test must
	// skip even with BERTH_TEST_STRICT=1), so the mode is checked before
	// RequiresCgroup2, as the cgroups package's v2 tests do.
	if cgroups.HostMode() != cgroups.Unified {
		t.Skipf("skipping: delegated cgroup v2 test on a %s host (make test-cgroup2 runs it)", cgroups.HostMode())
	}
	testenv.RequiresCgroup2(t)

	const id = 4242
	home, err := os.MkdirTemp("", "berth-rlv2-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(home) })
	u := &rootlessUser{t: t, name: fmt.Sprint(id), uid: id, gid: id, home: home, runDir: filepath.Join(home, "run")}
	if err := os.Mkdir(u.runDir, 0o700); err != nil {
		t.Fatal(err)
	}
	u.bin = filepath.Join(home, "berth-runtime")
	copyFile(t, testenv.Binary(t, "berth-runtime"), u.bin, 0o755)
	if err := os.Chmod(home, 0o755); err != nil {
		t.Fatal(err)
	}
	u.chown(t, home)

	// The delegation.
	name := "berth-rl-" + newMark()[:8]
	deleg := filepath.Join("/sys/fs/cgroup", name)
	cli, ctrs := filepath.Join(deleg, "cli"), filepath.Join(deleg, "containers")
	if err := os.Mkdir(deleg, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// deepest first; every dir must be empty of processes by now
		var dirs []string
		_ = filepath.WalkDir(deleg, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				dirs = append(dirs, p)
			}
			return nil
		})
		for i := len(dirs) - 1; i >= 0; i-- {
			if err := os.Remove(dirs[i]); err != nil {
				procs, _ := os.ReadFile(filepath.Join(dirs[i], "cgroup.procs"))
				t.Errorf("remove cgroup %s: %v (cgroup.procs: %q)", dirs[i], err, procs)
			}
		}
	})
	for _, d := range []string{cli, ctrs} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []string{deleg, ctrs} {
		if err := os.WriteFile(filepath.Join(d, "cgroup.subtree_control"), []byte("+memory +pids +cpu"), 0o644); err != nil {
			t.Fatalf("enable controllers below %s: %v", d, err)
		}
	}
	err = filepath.WalkDir(deleg, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		for _, f := range []string{"", "cgroup.procs", "cgroup.subtree_control", "cgroup.threads"} {
			if err := os.Chown(filepath.Join(p, f), id, id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("delegate %s to %d: %v", deleg, id, err)
	}
	if u.cgroup, err = os.Open(cli); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { u.cgroup.Close() })

	mem, pids := int64(64<<20), int64(50)
	cgPath := "/" + name + "/containers/c1"
	dir := u.bundle(t, "bundle", func(s *specs.Spec) {
		s.Linux.CgroupsPath = cgPath
		s.Linux.Resources = &specs.LinuxResources{
			Memory: &specs.LinuxMemory{Limit: &mem},
			Pids:   &specs.LinuxPids{Limit: &pids},
		}
		s.Process.Args = []string{"/bin/echo", "ran"}
	})
	const cid = "rl-deleg"
	t.Cleanup(func() {
		if _, err := os.Stat(filepath.Join(u.runDir, "berth-runtime", cid)); err == nil {
			t.Errorf("container %s left behind", cid)
			u.exec(t, nil, "delete", "--force", cid)
		}
	})

	_, errs, code := u.exec(t, nil, "create", "--bundle", dir, cid)
	if code != 0 {
		t.Fatalf("create as uid %d: exit %d: %s", id, code, errs)
	}
	if strings.Contains(errs, "cgroup") || strings.Contains(errs, "level=warning") {
		t.Errorf("create warned in a delegated cgroup; stderr:\n%s", errs)
	}
	var st struct{ Pid int }
	if err := json.Unmarshal([]byte(u.must(t, "state", cid)), &st); err != nil || st.Pid <= 0 {
		t.Fatalf("state of %s: pid %d, %v", cid, st.Pid, err)
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", st.Pid))
	if err != nil {
		t.Fatal(err)
	}
	if uid, _ := statusUID(string(status)); uid != id {
		t.Errorf("container init runs as host uid %d, want %d", uid, id)
	}
	own, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", st.Pid))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(own)); got != "0::"+cgPath {
		t.Errorf("container init is in cgroup %q, want 0::%s", got, cgPath)
	}
	c1 := filepath.Join("/sys/fs/cgroup", cgPath)
	for file, want := range map[string]string{"memory.max": fmt.Sprint(mem), "pids.max": fmt.Sprint(pids)} {
		data, err := os.ReadFile(filepath.Join(c1, file))
		if got := strings.TrimSpace(string(data)); err != nil || got != want {
			t.Errorf("%s of %s: %q (%v), want %s", file, c1, got, err, want)
		}
	}

	u.must(t, "start", cid)
	waitUntil(t, cid+" stopped", func() bool { return u.status(t, cid) == "stopped" })
	_, errs, code = u.exec(t, nil, "delete", cid)
	if code != 0 {
		t.Fatalf("delete: exit %d: %s", code, errs)
	}
	if _, err := os.Stat(c1); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("cgroup %s still there after delete: %v", c1, err)
	}
	if procs, err := os.ReadFile(filepath.Join(cli, "cgroup.procs")); err != nil || len(procs) > 0 {
		t.Errorf("processes left in %s: %q (%v)", cli, procs, err)
	}
}
