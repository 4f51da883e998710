package integration

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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

	"github.com/berth-project/berth/test/kit"
)

// pollTimeout bounds every wait for the kernel or a container to catch up.
const pollTimeout = 30 * time.Second

// markEnv is set, with a value unique to the test, in the environment of every
// runtime a lifecycle test starts; processes the runtime forks (its init)
// inherit it, so leftovers can be found by it.
const markEnv = "BERTH_TEST_MARK"

// newMark returns a value for markEnv, unique to one test.
func newMark() string {
	buf := make([]byte, 8)
	_, _ = rand.Read(buf)
	return hex.EncodeToString(buf)
}

// command returns the runtime's command for args, with markEnv=mark in its
// environment. Stdio is left for the caller.
func (r *runtimeCLI) command(mark string, args ...string) *exec.Cmd {
	cmd := exec.Command(r.bin, append([]string{"--root", r.root}, args...)...)
	cmd.Env = append(os.Environ(), markEnv+"="+mark)
	return cmd
}

// detached runs the runtime with stdout and stderr in files rather than
// pipes, for verbs that leave a container process holding them (create,
// run -d, exec -d). It returns the runtime's stderr, its exit code and the
// path of the stdout file, which the container's process keeps writing to.
func (r *runtimeCLI) detached(mark string, args ...string) (outPath, errs string, code int) {
	r.t.Helper()
	dir := r.t.TempDir()
	outPath = filepath.Join(dir, "stdout")
	out, err := os.Create(outPath)
	if err != nil {
		r.t.Fatal(err)
	}
	defer out.Close()
	errf, err := os.Create(filepath.Join(dir, "stderr"))
	if err != nil {
		r.t.Fatal(err)
	}
	defer errf.Close()
	cmd := r.command(mark, args...)
	cmd.Stdout, cmd.Stderr = out, errf
	err = cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		r.t.Fatalf("run %s %v: %v", r.bin, args, err)
	}
	data, _ := os.ReadFile(errf.Name())
	return outPath, string(data), code
}

// mustDetached is detached that fails the test unless the runtime exits 0.
func (r *runtimeCLI) mustDetached(mark string, args ...string) string {
	r.t.Helper()
	out, errs, code := r.detached(mark, args...)
	if code != 0 {
		r.t.Fatalf("berth-runtime %s: exit %d: %s", strings.Join(args, " "), code, errs)
	}
	return out
}

// status returns the status `state` prints for id.
func (r *runtimeCLI) status(id string) string {
	r.t.Helper()
	s, _ := r.state(id)["status"].(string)
	return s
}

// statePid returns the pid `state` prints for id.
func (r *runtimeCLI) statePid(id string) int {
	r.t.Helper()
	p, _ := r.state(id)["pid"].(float64)
	return int(p)
}

// waitStatus polls until id's status is want.
func (r *runtimeCLI) waitStatus(id, want string) {
	r.t.Helper()
	waitUntil(r.t, fmt.Sprintf("container %s %s", id, want), func() bool { return r.status(id) == want })
}

// deleteOnCleanup force-deletes id when the test ends, if it still exists.
// Register it after kit.NewBundle, so that it runs before the bundle's
// cgroup is removed.
func (r *runtimeCLI) deleteOnCleanup(id string) {
	r.t.Cleanup(func() {
		if _, err := os.Stat(filepath.Join(r.root, id)); err == nil {
			r.exec(nil, "delete", "--force", id)
		}
	})
}

// waitUntil polls cond until it holds, failing the test after pollTimeout.
func waitUntil(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(pollTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// bindHostDir bind-mounts a new empty host directory read-write at dest in
// b's container (the spec is saved) and returns the host directory.
func bindHostDir(t testing.TB, b *kit.Bundle, dest string) string {
	t.Helper()
	host := t.TempDir()
	b.Spec.Mounts = append(b.Spec.Mounts, specs.Mount{
		Destination: dest, Type: "bind", Source: host, Options: []string{"rbind", "rw"},
	})
	if err := b.Save(); err != nil {
		t.Fatal(err)
	}
	return host
}

// setArgs sets b's process args and saves the spec.
func setArgs(t testing.TB, b *kit.Bundle, args ...string) {
	t.Helper()
	b.Spec.Process.Args = args
	if err := b.Save(); err != nil {
		t.Fatal(err)
	}
}

// exists reports whether path exists.
func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// leftoverProcs returns a description of every process that carries mark in
// its environment, has one of needles in its command line, or sits in the
// cgroup cgroupsPath (when not empty).
func leftoverProcs(mark, cgroupsPath string, needles ...string) []string {
	var found []string
	entries, _ := os.ReadDir("/proc")
	self := os.Getpid()
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		dir := filepath.Join("/proc", e.Name())
		cmdline, err := os.ReadFile(filepath.Join(dir, "cmdline"))
		if err != nil {
			continue // gone
		}
		cmd := strings.ReplaceAll(string(bytes.TrimRight(cmdline, "\x00")), "\x00", " ")
		why := ""
		if env, _ := os.ReadFile(filepath.Join(dir, "environ")); mark != "" && bytes.Contains(env, []byte(markEnv+"="+mark)) {
			why = "runtime mark in environment"
		}
		for _, n := range needles {
			if n != "" && strings.Contains(cmd, n) {
				why = "command line has " + n
			}
		}
		if cgroupsPath != "" {
			if cg, _ := os.ReadFile(filepath.Join(dir, "cgroup")); bytes.Contains(cg, []byte(":"+cgroupsPath+"\n")) {
				why = "in cgroup " + cgroupsPath
			}
		}
		if why != "" {
			found = append(found, fmt.Sprintf("pid %d %q (%s)", pid, cmd, why))
		}
	}
	return found
}

// assertNoProcs waits (up to pollTimeout) until leftoverProcs finds nothing,
// and fails the test otherwise.
func assertNoProcs(t testing.TB, mark string, b *kit.Bundle, needles ...string) {
	t.Helper()
	cg := ""
	if b != nil {
		cg = b.Spec.Linux.CgroupsPath
		needles = append(needles, b.Dir)
	}
	deadline := time.Now().Add(pollTimeout)
	for {
		left := leftoverProcs(mark, cg, needles...)
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("processes left behind:\n%s", strings.Join(left, "\n"))
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestCreateStartKillDelete walks a container through its whole life:
// create leaves the process waiting (it has not run), start lets it run,
// kill by name stops it, delete removes everything.
func TestCreateStartKillDelete(t *testing.T) {
	r := newRuntime(t)
	b := kit.NewBundle(t)
	host := bindHostDir(t, b, "/out")
	setArgs(t, b, "/bin/sh", "-c", "echo ran > /out/ran; exec /probe signals")
	mark := newMark()
	id := "life-" + mark[:6]
	r.deleteOnCleanup(id)

	out := r.mustDetached(mark, "create", "--bundle", b.Dir, id)
	st := r.state(id)
	pid, _ := st["pid"].(float64)
	if st["status"] != "created" || pid <= 0 || st["id"] != id || st["bundle"] != b.Dir {
		t.Fatalf("state after create = %v, want created with a pid, id %s, bundle %s", st, id, b.Dir)
	}
	if !exists(fmt.Sprintf("/proc/%d", int(pid))) {
		t.Fatalf("pid %d of the created container does not exist", int(pid))
	}
	if exists(filepath.Join(host, "ran")) {
		t.Fatal("the process ran before start")
	}
	if r.status(id) != "created" || exists(filepath.Join(host, "ran")) {
		t.Fatal("the process ran before start (second look)")
	}

	r.must("start", id)
	waitUntil(t, "the process to write /out/ran", func() bool { return exists(filepath.Join(host, "ran")) })
	waitUntil(t, "probe signals ready", func() bool {
		data, _ := os.ReadFile(out)
		return strings.Contains(string(data), "ready")
	})
	if got := r.status(id); got != "running" {
		t.Errorf("status after start = %q, want running", got)
	}
	if got := r.statePid(id); got != int(pid) {
		t.Errorf("pid after start = %d, want %d", got, int(pid))
	}
	if _, errs, code := r.exec(nil, "start", id); code == 0 || !strings.Contains(errs, id) {
		t.Errorf("second start: exit %d, stderr %q; want a failure naming %s", code, errs, id)
	}

	r.must("kill", id, "TERM")
	r.waitStatus(id, "stopped")
	data, _ := os.ReadFile(out)
	if !strings.Contains(string(data), "SIGTERM") {
		t.Errorf("container output %q: the process did not get SIGTERM", data)
	}
	if got := r.statePid(id); got != 0 {
		t.Errorf("pid of the stopped container = %d, want 0", got)
	}
	_, errs, code := r.exec(nil, "kill", id, "KILL")
	if code == 0 || !strings.Contains(errs, id) || !strings.Contains(errs, "stopped") {
		t.Errorf("kill of a stopped container: exit %d, stderr %q; want a failure naming %s and stopped", code, errs, id)
	}
	if _, errs, code := r.exec(nil, "start", id); code == 0 || !strings.Contains(errs, "stopped") {
		t.Errorf("start of a stopped container: exit %d, stderr %q; want a failure", code, errs)
	}

	r.must("delete", id)
	assertNoLeaks(t, r, id, b)
	assertNoProcs(t, mark, b)
}

// TestKillSignals kills a running container by each spelling of SIGKILL
// (the probe, pid 1 of its namespace, has no handler for SIGTERM).
func TestKillSignals(t *testing.T) {
	r := newRuntime(t)
	b := kit.NewBundle(t)
	setArgs(t, b, "/probe", "sleep", "1000")
	mark := newMark()
	for i, sig := range []string{"SIGKILL", "9", "KILL", "kill"} {
		id := fmt.Sprintf("kill-%d-%s", i, mark[:6])
		r.deleteOnCleanup(id)
		r.mustDetached(mark, "run", "-d", "--bundle", b.Dir, id)
		if got := r.status(id); got != "running" {
			t.Fatalf("%s: status after run -d = %q, want running", id, got)
		}
		r.must("kill", id, sig)
		r.waitStatus(id, "stopped")
		r.must("delete", id)
		assertNoLeaks(t, r, id, b)
	}
	assertNoProcs(t, mark, b)
}

func TestRunExitCode(t *testing.T) {
	r := newRuntime(t)
	b := kit.NewBundle(t)
	for _, tc := range []struct {
		script string
		code   int
	}{
		{"exit 0", 0},
		{"exit 42", 42},
		{"exit 255", 255},
	} {
		id := "exit-" + strconv.Itoa(tc.code)
		setArgs(t, b, "/bin/sh", "-c", tc.script)
		_, errs, code := r.exec(nil, "run", "--bundle", b.Dir, id)
		if code != tc.code {
			t.Errorf("run sh -c %q: exit %d, want %d (stderr %q)", tc.script, code, tc.code, errs)
		}
		assertNoLeaks(t, r, id, b)
		assertNoProcs(t, "", b)
	}
}

func TestRunStdio(t *testing.T) {
	r := newRuntime(t)
	b := kit.NewBundle(t)
	setArgs(t, b, "/bin/sh", "-c", "echo to-stdout; echo to-stderr >&2; read line; echo got $line")
	out, errs, code := r.exec([]byte("from-stdin\n"), "run", "--bundle", b.Dir, "stdio")
	if code != 0 || out != "to-stdout\ngot from-stdin\n" || errs != "to-stderr\n" {
		t.Errorf("run: exit %d, stdout %q, stderr %q; want 0, \"to-stdout\\ngot from-stdin\\n\", \"to-stderr\\n\"", code, out, errs)
	}
	assertNoLeaks(t, r, "stdio", b)
	assertNoProcs(t, "", b)
}

// startForeground starts `run` in the foreground with its stdout on a pipe
// read line by line (for up to pollTimeout); the returned function waits for
// the runtime and returns its exit code. Register deleteOnCleanup for the
// container before: the runtime is killed when the test ends without waiting.
func (r *runtimeCLI) startForeground(mark string, args ...string) (*exec.Cmd, *bufio.Reader, func() int) {
	r.t.Helper()
	cmd := r.command(mark, args...)
	var errb bytes.Buffer
	cmd.Stderr = &errb
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		r.t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	// readLine fails instead of hanging when nothing comes.
	_ = pipe.(*os.File).SetReadDeadline(time.Now().Add(pollTimeout))
	waited := false
	wait := func() int {
		waited = true
		rest, _ := io.ReadAll(pipe)
		err := cmd.Wait()
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			r.t.Fatalf("wait for %v: %v", args, err)
		}
		if errb.Len() > 0 || len(rest) > 0 {
			r.t.Logf("%v: stdout rest %q, stderr %q", args, rest, errb.String())
		}
		return cmd.ProcessState.ExitCode()
	}
	r.t.Cleanup(func() {
		if !waited {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	return cmd, bufio.NewReader(pipe), wait
}

// readLine reads lines from rd until one equal to want, failing the test at
// EOF.
func readLine(t testing.TB, rd *bufio.Reader, want string) {
	t.Helper()
	var seen []string
	for {
		line, err := rd.ReadString('\n')
		if strings.TrimRight(line, "\r\n") == want {
			return
		}
		seen = append(seen, line)
		if err != nil {
			t.Fatalf("no line %q in output %q: %v", want, seen, err)
		}
	}
}

// TestRunForwardsSignals sends SIGTERM to a foreground `run`: the container
// process receives it and exits, and the runtime exits with its code.
func TestRunForwardsSignals(t *testing.T) {
	r := newRuntime(t)
	b := kit.NewBundle(t)
	mark := newMark()

	t.Run("probe", func(t *testing.T) {
		setArgs(t, b, "/probe", "signals")
		r.deleteOnCleanup("fwd-probe")
		cmd, out, wait := r.startForeground(mark, "run", "--bundle", b.Dir, "fwd-probe")
		readLine(t, out, "ready")
		if err := cmd.Process.Signal(syscall.SIGUSR1); err != nil {
			t.Fatal(err)
		}
		readLine(t, out, "SIGUSR1")
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		readLine(t, out, "SIGTERM")
		if code := wait(); code != 0 {
			t.Errorf("run exited %d, want 0 (the probe's status after SIGTERM)", code)
		}
		assertNoLeaks(t, r, "fwd-probe", b)
	})
	t.Run("trap", func(t *testing.T) {
		setArgs(t, b, "/bin/sh", "-c", `trap "echo trapped; exit 7" TERM; echo ready; while :; do sleep 0.1; done`)
		r.deleteOnCleanup("fwd-trap")
		cmd, out, wait := r.startForeground(mark, "run", "--bundle", b.Dir, "fwd-trap")
		readLine(t, out, "ready")
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		readLine(t, out, "trapped")
		if code := wait(); code != 7 {
			t.Errorf("run exited %d, want 7 (the trap's status)", code)
		}
		assertNoLeaks(t, r, "fwd-trap", b)
	})
	assertNoProcs(t, mark, b)
}

// TestRunKilledPidFile kills the process of a foreground `run` (found
// through --pid-file) with SIGKILL: the runtime exits 128+9.
func TestRunKilledPidFile(t *testing.T) {
	r := newRuntime(t)
	b := kit.NewBundle(t)
	setArgs(t, b, "/bin/sh", "-c", "echo ready; exec /probe sleep 1000")
	mark := newMark()
	pidFile := filepath.Join(t.TempDir(), "pid")
	r.deleteOnCleanup("killed")
	_, out, wait := r.startForeground(mark, "run", "--pid-file", pidFile, "--bundle", b.Dir, "killed")
	readLine(t, out, "ready")
	data, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatalf("--pid-file: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 0 {
		t.Fatalf("--pid-file holds %q, want a pid", data)
	}
	if got := r.statePid("killed"); got != pid {
		t.Errorf("--pid-file pid %d, state pid %d", pid, got)
	}
	// The pid is the container's process: sh, which execs the probe.
	waitUntil(t, fmt.Sprintf("host pid %d to run the container's /probe sleep", pid), func() bool {
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		return bytes.HasPrefix(cmdline, []byte("/probe\x00sleep"))
	})
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if code := wait(); code != 128+9 {
		t.Errorf("run exited %d, want %d", code, 128+9)
	}
	assertNoLeaks(t, r, "killed", b)
	assertNoProcs(t, mark, b)
}

// TestRunKeepAndDetach: `run --keep` leaves the stopped container until
// delete; `run -d` returns while the process runs, and delete needs --force.
func TestRunKeepAndDetach(t *testing.T) {
	r := newRuntime(t)
	b := kit.NewBundle(t)
	mark := newMark()

	setArgs(t, b, "/bin/sh", "-c", "exit 3")
	r.deleteOnCleanup("kept")
	if _, errs, code := r.exec(nil, "run", "--keep", "--bundle", b.Dir, "kept"); code != 3 {
		t.Fatalf("run --keep: exit %d, want 3: %s", code, errs)
	}
	if got := r.status("kept"); got != "stopped" {
		t.Errorf("status after run --keep = %q, want stopped", got)
	}
	r.must("delete", "kept")
	assertNoLeaks(t, r, "kept", b)

	setArgs(t, b, "/probe", "sleep", "1000")
	r.deleteOnCleanup("detached")
	pidFile := filepath.Join(t.TempDir(), "pid")
	r.mustDetached(mark, "run", "-d", "--pid-file", pidFile, "--bundle", b.Dir, "detached")
	if got := r.status("detached"); got != "running" {
		t.Fatalf("status after run -d = %q, want running", got)
	}
	data, _ := os.ReadFile(pidFile)
	if pid := r.statePid("detached"); strings.TrimSpace(string(data)) != strconv.Itoa(pid) {
		t.Errorf("--pid-file holds %q, state pid %d", data, pid)
	}
	_, errs, code := r.exec(nil, "delete", "detached")
	if code == 0 || !strings.Contains(errs, "detached") || !strings.Contains(errs, "running") {
		t.Errorf("delete of a running container: exit %d, stderr %q; want a failure naming it and running", code, errs)
	}
	if got := r.status("detached"); got != "running" {
		t.Errorf("status after a failed delete = %q, want running", got)
	}
	r.must("delete", "--force", "detached")
	assertNoLeaks(t, r, "detached", b)
	assertNoProcs(t, mark, b)
}

// containerPids returns the host pids `ps --format json` lists for id.
func (r *runtimeCLI) containerPids(id string) []int {
	r.t.Helper()
	var pids []int
	if err := json.Unmarshal([]byte(r.must("ps", "--format", "json", id)), &pids); err != nil {
		r.t.Fatalf("ps --format json %s: %v", id, err)
	}
	return pids
}

// TestKillAll: `kill --all` signals every process of the container's
// cgroup, not only its init.
func TestKillAll(t *testing.T) {
	r := newRuntime(t)
	b := kit.NewBundle(t)
	setArgs(t, b, "/bin/sh", "-c",
		`trap "echo term" TERM; sleep 1000 & sleep 1000 & echo ready; while :; do sleep 0.2; done`)
	mark := newMark()
	r.deleteOnCleanup("all")
	out := r.mustDetached(mark, "run", "-d", "--bundle", b.Dir, "all")
	waitUntil(t, "the container to be ready", func() bool {
		data, _ := os.ReadFile(out)
		return strings.Contains(string(data), "ready")
	})
	init := r.statePid("all")
	var sleepers []int
	for _, p := range r.containerPids("all") {
		if c, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", p)); string(c) == "sleep\x001000\x00" {
			sleepers = append(sleepers, p)
		}
	}
	if len(sleepers) != 2 {
		t.Fatalf("found sleepers %v in the container, want 2", sleepers)
	}

	r.must("kill", "--all", "all", "TERM")
	waitUntil(t, "the init to trap TERM", func() bool {
		data, _ := os.ReadFile(out)
		return strings.Contains(string(data), "term")
	})
	for _, p := range sleepers {
		waitUntil(t, fmt.Sprintf("sleeper %d to die", p), func() bool {
			return !slices.Contains(r.containerPids("all"), p)
		})
	}
	if got := r.status("all"); got != "running" {
		t.Errorf("status after kill --all TERM = %q, want running (the init traps TERM)", got)
	}

	r.must("kill", "--all", "all", "KILL")
	r.waitStatus("all", "stopped")
	waitUntil(t, "the cgroup to empty", func() bool { return len(r.containerPids("all")) == 0 })
	if exists(fmt.Sprintf("/proc/%d/cmdline", init)) {
		if c, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", init)); len(c) > 0 {
			t.Errorf("init %d still runs %q", init, c)
		}
	}
	r.must("delete", "all")
	assertNoLeaks(t, r, "all", b)
	assertNoProcs(t, mark, b)
}
