package integration

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/berth-project/berth/internal/linux/cgroups"
	"github.com/berth-project/berth/internal/linux/pty"
	"github.com/berth-project/berth/test/kit"
)

// TestListAndPs checks list (table, json, -q) and ps (table, json) with one
// created and one running container.
func TestListAndPs(t *testing.T) {
	r := newRuntime(t)
	mark := newMark()
	created, running := kit.NewBundle(t), kit.NewBundle(t)
	setArgs(t, created, "/probe", "sleep", "1000")
	setArgs(t, running, "/probe", "sleep", "1000")
	r.deleteOnCleanup("list-created")
	r.deleteOnCleanup("list-running")
	r.mustDetached(mark, "create", "--bundle", created.Dir, "list-created")
	r.mustDetached(mark, "run", "-d", "--bundle", running.Dir, "list-running")
	want := map[string]struct {
		status, bundle string
		pid            int
	}{
		"list-created": {"created", created.Dir, r.statePid("list-created")},
		"list-running": {"running", running.Dir, r.statePid("list-running")},
	}

	if got := strings.Fields(r.must("list", "-q")); !slices.Equal(got, []string{"list-created", "list-running"}) {
		t.Errorf("list -q = %q, want the two ids", got)
	}

	var js []map[string]any
	if err := json.Unmarshal([]byte(r.must("list", "--format", "json")), &js); err != nil {
		t.Fatalf("list --format json: %v", err)
	}
	if len(js) != 2 {
		t.Errorf("list --format json has %d entries, want 2: %v", len(js), js)
	}
	for _, c := range js {
		id, _ := c["id"].(string)
		w, ok := want[id]
		pid, _ := c["pid"].(float64)
		if !ok || c["status"] != w.status || c["bundle"] != w.bundle || int(pid) != w.pid || pid <= 0 {
			t.Errorf("list --format json entry %v, want id %s status %s bundle %s pid %d", c, id, w.status, w.bundle, w.pid)
		}
		if _, ok := c["created"].(string); !ok {
			t.Errorf("list --format json entry %v has no created time", c)
		}
	}

	lines := strings.Split(strings.TrimSpace(r.must("list")), "\n")
	if len(lines) != 3 || !slices.Equal(strings.Fields(lines[0])[:4], []string{"ID", "PID", "STATUS", "BUNDLE"}) {
		t.Fatalf("list table:\n%s\nwant a header ID PID STATUS BUNDLE … and two rows", strings.Join(lines, "\n"))
	}
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		w, ok := want[f[0]]
		if !ok || f[1] != strconv.Itoa(w.pid) || f[2] != w.status || f[3] != w.bundle {
			t.Errorf("list row %q, want %s %d %s %s", l, f[0], w.pid, w.status, w.bundle)
		}
	}

	pid := want["list-running"].pid
	// run -d returns once the process may run, maybe before its execve.
	waitUntil(t, "the container's execve", func() bool {
		c, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		return strings.HasPrefix(string(c), "/probe\x00")
	})
	if got := r.containerPids("list-running"); !slices.Equal(got, []int{pid}) {
		t.Errorf("ps --format json = %v, want [%d]", got, pid)
	}
	// The header is whatever the host's ps prints (procps: UID PID PPID …;
	// busybox ignores -ef: PID USER COMMAND); the pid is in its PID column.
	table := strings.Split(strings.TrimSpace(r.must("ps", "list-running", "-ef")), "\n")
	col := slices.Index(strings.Fields(table[0]), "PID")
	if len(table) != 2 || col < 0 || len(strings.Fields(table[1])) <= col ||
		strings.Fields(table[1])[col] != strconv.Itoa(pid) || !strings.Contains(table[1], "/probe sleep 1000") {
		t.Errorf("ps -ef:\n%s\nwant a header with a PID column and the line of pid %d", strings.Join(table, "\n"), pid)
	}
	if _, errs, code := r.exec(nil, "ps", "--format", "yaml", "list-running"); code == 0 || !strings.Contains(errs, "yaml") {
		t.Errorf("ps --format yaml: exit %d, stderr %q; want a failure naming yaml", code, errs)
	}

	r.must("delete", "--force", "list-created")
	r.must("delete", "--force", "list-running")
	if got := strings.TrimSpace(r.must("list", "-q")); got != "" {
		t.Errorf("list -q after delete = %q, want nothing", got)
	}
	assertNoLeaks(t, r, "list-created", created)
	assertNoLeaks(t, r, "list-running", running)
	assertNoProcs(t, mark, created)
	assertNoProcs(t, mark, running)
}

// cgroupFile returns the path of a file of cgroup path: on a cgroup v2 host
// v2file in the unified tree (/sys/fs/cgroup/<path>/<v2file>), elsewhere
// v1file in controller ctrl's hierarchy (/sys/fs/cgroup/<ctrl>/<path>/<v1file>).
func cgroupFile(t testing.TB, ctrl, path, v1file, v2file string) string {
	t.Helper()
	p := filepath.Join("/sys/fs/cgroup", ctrl, path, v1file)
	if cgroups.HostMode() == cgroups.Unified {
		p = filepath.Join("/sys/fs/cgroup", path, v2file)
	}
	if !exists(p) {
		t.Fatalf("no cgroup file %s (%s of %s)", p, ctrl, path)
	}
	return p
}

func readTrim(t testing.TB, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(data))
}

// TestPauseResumeUpdateEvents freezes and thaws a container whose process
// counts, changes its limits with update and reads events --stats.
func TestPauseResumeUpdateEvents(t *testing.T) {
	r := newRuntime(t)
	b := kit.NewBundle(t)
	host := bindHostDir(t, b, "/out")
	setArgs(t, b, "/bin/sh", "-c", "i=0; while :; do i=$((i+1)); echo $i > /out/n.tmp; mv /out/n.tmp /out/n; sleep 0.05; done")
	mark := newMark()
	id := "freeze"
	r.deleteOnCleanup(id)
	r.mustDetached(mark, "run", "-d", "--bundle", b.Dir, id)
	counter := func() string {
		data, _ := os.ReadFile(filepath.Join(host, "n"))
		return string(data)
	}
	advances := func() {
		t.Helper()
		first := counter()
		waitUntil(t, "the counter to advance", func() bool { return counter() != first && counter() != "" })
	}
	advances()

	r.must("pause", id)
	if got := r.status(id); got != "paused" {
		t.Errorf("status after pause = %q, want paused", got)
	}
	cg := b.Spec.Linux.CgroupsPath
	frozenState := "FROZEN" // v1 freezer.state; v2 cgroup.freeze is 1
	if cgroups.HostMode() == cgroups.Unified {
		frozenState = "1"
	}
	if f := cgroupFile(t, "freezer", cg, "freezer.state", "cgroup.freeze"); readTrim(t, f) != frozenState {
		t.Errorf("%s = %q, want %s", f, readTrim(t, f), frozenState)
	}
	frozen := counter()
	time.Sleep(300 * time.Millisecond) // a running counter would move in this time
	if got := counter(); got != frozen {
		t.Errorf("the counter moved from %q to %q while paused", frozen, got)
	}
	if _, errs, code := r.exec(nil, "pause", id); code == 0 || !strings.Contains(errs, "paused") {
		t.Errorf("second pause: exit %d, stderr %q; want a failure naming paused", code, errs)
	}
	r.must("resume", id)
	if got := r.status(id); got != "running" {
		t.Errorf("status after resume = %q, want running", got)
	}
	advances()
	if _, errs, code := r.exec(nil, "resume", id); code == 0 || !strings.Contains(errs, "running") {
		t.Errorf("resume of a running container: exit %d, stderr %q; want a failure naming running", code, errs)
	}

	r.must("update", "--pids-limit", "42", "--memory", strconv.Itoa(96<<20), id)
	if f := cgroupFile(t, "pids", cg, "pids.max", "pids.max"); readTrim(t, f) != "42" {
		t.Errorf("%s after update = %q, want 42", f, readTrim(t, f))
	}
	if f := cgroupFile(t, "memory", cg, "memory.limit_in_bytes", "memory.max"); readTrim(t, f) != strconv.Itoa(96<<20) {
		t.Errorf("%s after update = %q, want %d", f, readTrim(t, f), 96<<20)
	}
	advances()

	var ev struct {
		Type string `json:"type"`
		ID   string `json:"id"`
		Data struct {
			Pids struct {
				Current uint64 `json:"current"`
				Limit   uint64 `json:"limit"`
			} `json:"pids"`
			Memory struct {
				Usage struct {
					Usage uint64 `json:"usage"`
					Limit uint64 `json:"limit"`
				} `json:"usage"`
			} `json:"memory"`
		} `json:"data"`
	}
	out := r.must("events", "--stats", id)
	if err := json.Unmarshal([]byte(out), &ev); err != nil {
		t.Fatalf("events --stats: %v\n%s", err, out)
	}
	if ev.Type != "stats" || ev.ID != id || ev.Data.Pids.Current < 1 || ev.Data.Pids.Limit != 42 ||
		ev.Data.Memory.Usage.Usage == 0 || ev.Data.Memory.Usage.Limit != 96<<20 {
		t.Errorf("events --stats = %s\nwant type stats, id %s, pids.current ≥ 1, pids.limit 42, memory usage > 0 and limit %d", out, id, 96<<20)
	}

	r.must("delete", "--force", id)
	assertNoLeaks(t, r, id, b)
	assertNoProcs(t, mark, b)
}

func TestFeatures(t *testing.T) {
	r := newRuntime(t)
	var f struct {
		OCIVersionMin string `json:"ociVersionMin"`
		OCIVersionMax string `json:"ociVersionMax"`
		Hooks         []string
		Linux         struct {
			Namespaces   []string `json:"namespaces"`
			Capabilities []string `json:"capabilities"`
		} `json:"linux"`
	}
	out := r.must("features")
	if err := json.Unmarshal([]byte(out), &f); err != nil {
		t.Fatalf("features: %v\n%s", err, out)
	}
	if f.OCIVersionMin == "" || f.OCIVersionMax == "" {
		t.Errorf("features: no OCI versions: %s", out)
	}
	for _, ns := range []string{"pid", "network", "ipc", "uts", "mount", "user", "cgroup"} {
		if !slices.Contains(f.Linux.Namespaces, ns) {
			t.Errorf("features: namespace %s missing from %v", ns, f.Linux.Namespaces)
		}
	}
	for _, c := range []string{"CAP_CHOWN", "CAP_SYS_ADMIN", "CAP_NET_BIND_SERVICE", "CAP_KILL"} {
		if !slices.Contains(f.Linux.Capabilities, c) {
			t.Errorf("features: capability %s missing from %v", c, f.Linux.Capabilities)
		}
	}
	for _, h := range []string{"prestart", "createRuntime", "poststop"} {
		if !slices.Contains(f.Hooks, h) {
			t.Errorf("features: hook %s missing from %v", h, f.Hooks)
		}
	}
}

// TestSpec: `spec` writes a config.json that `run` accepts (with the kit's
// rootfs, no terminal and the kit's cgroup) and refuses to overwrite it.
func TestSpec(t *testing.T) {
	r := newRuntime(t)
	b := kit.NewBundle(t)
	cfg, s := specFromCLI(t, r, b)
	proc, _ := s["process"].(map[string]any)
	root, _ := s["root"].(map[string]any)
	linux, _ := s["linux"].(map[string]any)
	if proc == nil || root == nil || linux == nil || root["path"] != "rootfs" || proc["terminal"] != true {
		t.Fatalf("config.json from spec: process %v root %v; want a terminal and root rootfs", proc, root)
	}
	proc["terminal"] = false
	proc["args"] = []string{"/bin/sh", "-c", "echo from-spec"}
	linux["cgroupsPath"] = b.Spec.Linux.CgroupsPath
	writeJSON(t, cfg, s)
	out, errs, code := r.exec(nil, "run", "--bundle", b.Dir, "fromspec")
	if code != 0 || out != "from-spec\n" {
		t.Errorf("run of the spec's bundle: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	assertNoLeaks(t, r, "fromspec", b)

	data, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, errs, code = r.exec(nil, "spec", "--bundle", b.Dir)
	if code == 0 || !strings.Contains(errs, cfg) {
		t.Errorf("spec over an existing config.json: exit %d, stderr %q; want a failure naming %s", code, errs, cfg)
	}
	if after, _ := os.ReadFile(cfg); string(after) != string(data) {
		t.Errorf("spec changed the existing config.json")
	}
}

// TestLogJSON: with --log and --log-format json, an error is a JSON line
// {"level":"error","msg":…} in the log file.
func TestLogJSON(t *testing.T) {
	r := newRuntime(t)
	log := filepath.Join(t.TempDir(), "log.json")
	missing := filepath.Join(t.TempDir(), "nobundle")
	_, _, code := r.exec(nil, "--log", log, "--log-format", "json", "create", "--bundle", missing, "logged")
	if code == 0 {
		t.Fatal("create from a missing bundle succeeded")
	}
	data, err := os.ReadFile(log)
	if err != nil {
		t.Fatalf("log file: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	found := false
	for _, l := range lines {
		var e map[string]any
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Errorf("log line %q is not JSON: %v", l, err)
			continue
		}
		if msg, _ := e["msg"].(string); e["level"] == "error" && strings.Contains(msg, missing) {
			found = true
		}
		if _, ok := e["time"]; !ok {
			t.Errorf("log line %q has no time", l)
		}
	}
	if !found {
		t.Errorf("log %q has no {\"level\":\"error\"} line naming %s", data, missing)
	}
	if _, errs, code := r.exec(nil, "--log-format", "xml", "list"); code == 0 || !strings.Contains(errs, "xml") {
		t.Errorf("--log-format xml: exit %d, stderr %q; want a failure naming xml", code, errs)
	}
}

// consoleReceiver listens on a unix socket for the pty master a runtime
// sends with --console-socket. The returned channel yields everything read
// from the master until the terminal closes (or an error).
func consoleReceiver(t *testing.T) (string, <-chan string) {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "console.sock")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	out := make(chan string, 1)
	go func() {
		defer l.Close()
		conn, err := l.AcceptUnix()
		if err != nil {
			out <- "accept: " + err.Error()
			return
		}
		f, err := conn.File()
		conn.Close()
		if err != nil {
			out <- "file: " + err.Error()
			return
		}
		master, err := pty.RecvFd(f)
		f.Close()
		if err != nil {
			out <- "recv: " + err.Error()
			return
		}
		defer master.Close()
		data, _ := io.ReadAll(master) // ends with EIO when the last slave closes
		out <- string(data)
	}()
	t.Cleanup(func() { l.Close() })
	return sock, out
}

// TestTerminal runs a process on a terminal whose master goes to a
// --console-socket; create with a terminal but no socket fails.
func TestTerminal(t *testing.T) {
	r := newRuntime(t)
	b := kit.NewBundle(t)
	mark := newMark()
	b.Spec.Process.Terminal = true
	setArgs(t, b, "/bin/sh", "-c", "tty; echo hi")
	sock, got := consoleReceiver(t)
	_, errs, code := r.detached(mark, "run", "--console-socket", sock, "--bundle", b.Dir, "tty")
	if code != 0 {
		t.Fatalf("run with a terminal: exit %d: %s", code, errs)
	}
	select {
	case out := <-got:
		if want := "/dev/pts/0\r\nhi\r\n"; out != want {
			t.Errorf("terminal output %q, want %q", out, want)
		}
	case <-time.After(pollTimeout):
		t.Fatal("timed out reading the terminal")
	}
	assertNoLeaks(t, r, "tty", b)

	_, errs, code = r.detached(mark, "create", "--bundle", b.Dir, "tty-nosock")
	if code == 0 {
		r.exec(nil, "delete", "--force", "tty-nosock")
		t.Fatal("create with a terminal and no --console-socket succeeded")
	}
	if !strings.Contains(errs, "--console-socket") || strings.Count(strings.TrimSpace(errs), "\n") != 0 {
		t.Errorf("create with a terminal and no --console-socket: stderr %q; want one line naming --console-socket", errs)
	}
	assertNoLeaks(t, r, "tty-nosock", b)
	assertNoProcs(t, mark, b)
}

// TestExec runs processes in a running container with the flags of exec.
func TestExec(t *testing.T) {
	r := newRuntime(t)
	b := kit.NewBundle(t)
	setArgs(t, b, "/probe", "sleep", "1000")
	mark := newMark()
	id := "exec"
	r.deleteOnCleanup(id)
	r.mustDetached(mark, "run", "-d", "--bundle", b.Dir, id)
	initPid := r.statePid(id)

	if out := r.must("exec", "--env", "FOO=bar", id, "sh", "-c", "echo $FOO"); out != "bar\n" {
		t.Errorf("exec --env FOO=bar: stdout %q, want bar", out)
	}
	if _, errs, code := r.exec(nil, "exec", id, "sh", "-c", "exit 5"); code != 5 {
		t.Errorf("exec sh -c 'exit 5': exit %d, want 5 (stderr %q)", code, errs)
	}
	if _, errs, code := r.exec(nil, "exec", id, "sh", "-c", "kill -KILL $$"); code != 128+9 {
		t.Errorf("exec of a process that kills itself: exit %d, want %d (stderr %q)", code, 128+9, errs)
	}
	_, errs, code := r.exec(nil, "exec", id, "/nonexistent")
	assertOneLineError(t, "exec /nonexistent", errs, code, "/nonexistent")
	if out := r.must("exec", "--cwd", "/tmp", id, "pwd"); out != "/tmp\n" {
		t.Errorf("exec --cwd /tmp: pwd %q", out)
	}
	var rep probeReport
	out := r.must("exec", "--user", "1000:1000", id, "/probe", "report")
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("exec --user: probe report: %v\n%s", err, out)
	}
	if rep.UID != 1000 || rep.GID != 1000 || rep.EUID != 1000 {
		t.Errorf("exec --user 1000:1000: uid %d euid %d gid %d", rep.UID, rep.EUID, rep.GID)
	}

	pf := filepath.Join(t.TempDir(), "process.json")
	proc := b.Spec.Process
	proc.Args = []string{"/bin/sh", "-c", "echo from-json $PWD"}
	proc.Cwd = "/home"
	data, err := json.Marshal(proc)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pf, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if out := r.must("exec", "-p", pf, id); out != "from-json /home\n" {
		t.Errorf("exec -p: stdout %q", out)
	}

	pidFile := filepath.Join(t.TempDir(), "exec.pid")
	r.mustDetached(mark, "exec", "-d", "--pid-file", pidFile, id, "/probe", "sleep", "1000")
	data, err = os.ReadFile(pidFile)
	if err != nil {
		t.Fatalf("exec --pid-file: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		t.Fatalf("exec --pid-file holds %q", data)
	}
	for _, f := range []string{"ns/pid", "ns/mnt", "ns/net", "ns/uts", "ns/ipc", "cgroup"} {
		var a, b string
		if f == "cgroup" {
			a = readTrim(t, fmt.Sprintf("/proc/%d/cgroup", initPid))
			b = readTrim(t, fmt.Sprintf("/proc/%d/cgroup", pid))
		} else {
			a, _ = os.Readlink(fmt.Sprintf("/proc/%d/%s", initPid, f))
			b, _ = os.Readlink(fmt.Sprintf("/proc/%d/%s", pid, f))
		}
		if a == "" || a != b {
			t.Errorf("%s of the exec'd process %d is %q, the init's %q", f, pid, b, a)
		}
	}
	if pids := r.containerPids(id); !slices.Contains(pids, pid) || len(pids) != 2 {
		t.Errorf("ps of the container %v, want the init %d and the exec'd pid %d only", pids, initPid, pid)
	}
	if got := r.status(id); got != "running" {
		t.Errorf("status after the execs = %q, want running", got)
	}

	r.must("kill", id, "KILL")
	r.waitStatus(id, "stopped")
	_, errs, code = r.exec(nil, "exec", id, "true")
	if code == 0 || !strings.Contains(errs, id) || !strings.Contains(errs, "stopped") {
		t.Errorf("exec into a stopped container: exit %d, stderr %q; want a failure naming %s and stopped", code, errs, id)
	}
	r.must("delete", id)
	assertNoLeaks(t, r, id, b)
	assertNoProcs(t, mark, b)
}
