package integration

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/testenv"
	"github.com/berth-project/berth/test/kit"
)

// containerd 1.6 (Debian 12: containerd 1.6.20, ctr 1.6.20,
// containerd-shim-runc-v2) drives berth-runtime through the runc shim v2:
// ctr's --runc-binary names the runtime binary in the container's runc
// options, and the shim runs it for create, start, exec, kill, pause, delete.
//
// What this host needs (found by running the same commands under runc 1.1.5):
//   - a private containerd: root, state, gRPC and ttrpc sockets in a temp
//     dir, the CRI plugin and the snapshotters we do not use disabled, the
//     debug and metrics listeners off;
//   - ctr --cgroup /berth/ctr-<rand> (cgroups only under the berth parent),
//     --runc-root and --fifo-dir in the temp dir (their defaults are
//     /run/containerd/runc and /run/containerd/fifo);
//   - the shim's socket is hard-wired to /run/containerd/s/<hash> in 1.6;
//     the shim removes it when it exits, and the teardown removes the
//     directories if this test created them.

// containerdNamespace is the containerd namespace the tests work in.
const containerdNamespace = "berth-test"

// containerdImage is the name the kit's OCI layout is imported under
// (--base-name berth.test/kit plus the layout's ref "latest").
const containerdImage = "berth.test/kit:latest"

// containerd is a private containerd daemon started by a test.
type containerd struct {
	dir      string // everything of the daemon lives below it
	sock     string // gRPC address
	runcRoot string // --runc-root for the containers
	fifoDir  string
	cmd      *exec.Cmd
	exited   chan error
}

// startContainerd starts containerd with a private configuration and the
// kit's image imported; when the test ends it stops the daemon and checks
// that no shim, mount, cgroup or runtime state is left.
func startContainerd(t *testing.T) *containerd {
	t.Helper()
	testenv.RequiresRoot(t)
	bin := testenv.RequiresBinary(t, "containerd")
	testenv.RequiresBinary(t, "ctr")
	testenv.RequiresBinary(t, "containerd-shim-runc-v2")
	testenv.RequiresBinary(t, "tar")

	// t.TempDir names are long; the socket path must stay under 108 bytes.
	dir, err := os.MkdirTemp("", "berth-ctrd-")
	if err != nil {
		t.Fatal(err)
	}
	c := &containerd{
		dir:      dir,
		sock:     filepath.Join(dir, "containerd.sock"),
		runcRoot: filepath.Join(dir, "runc"),
		fifoDir:  filepath.Join(dir, "fifo"),
		exited:   make(chan error, 1),
	}
	hostDirs := absentPaths("/run/containerd/s", "/run/containerd/fifo", "/run/containerd/runc", "/run/containerd")
	t.Cleanup(func() {
		c.stop(t)
		removeCreated(hostDirs)
		if err := os.RemoveAll(dir); err != nil {
			t.Errorf("remove %s: %v", dir, err)
		}
	})

	config := fmt.Sprintf(`version = 2
root = %q
state = %q
disabled_plugins = [
  "io.containerd.grpc.v1.cri",
  "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.zfs",
  "io.containerd.tracing.processor.v1.otlp",
  "io.containerd.internal.v1.tracing",
]

[grpc]
  address = %q

[ttrpc]
  address = %q

[debug]
  address = ""

[metrics]
  address = ""
`, filepath.Join(dir, "root"), filepath.Join(dir, "state"), c.sock, c.sock+".ttrpc")
	confPath := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(confPath, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	logf, err := os.Create(filepath.Join(dir, "containerd.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	c.cmd = exec.Command(bin, "--config", confPath)
	c.cmd.Stdout, c.cmd.Stderr = logf, logf
	if err := c.cmd.Start(); err != nil {
		t.Fatalf("start containerd: %v", err)
	}
	go func() { c.exited <- c.cmd.Wait() }()

	// Wait until the daemon answers (or dies).
	deadline := time.Now().Add(time.Minute)
	for {
		if _, _, code := c.ctrQuiet(t, "version"); code == 0 {
			break
		}
		select {
		case err := <-c.exited:
			c.exited <- err
			t.Fatalf("containerd exited: %v\n%s", err, c.log())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("containerd does not answer on %s\n%s", c.sock, c.log())
		}
		time.Sleep(50 * time.Millisecond)
	}

	layout := filepath.Join(dir, "layout")
	kit.OCILayout(t, layout, "latest")
	archive := filepath.Join(dir, "image.tar")
	if out, err := exec.Command("tar", "-C", layout, "-cf", archive, ".").CombinedOutput(); err != nil {
		t.Fatalf("tar %s: %v: %s", layout, err, out)
	}
	c.ctr(t, "images", "import", "--base-name", "berth.test/kit", archive)
	return c
}

// log returns containerd's log.
func (c *containerd) log() string {
	data, _ := os.ReadFile(filepath.Join(c.dir, "containerd.log"))
	return string(data)
}

// ctrQuiet runs ctr against the daemon and returns stdout, stderr and the
// exit code.
func (c *containerd) ctrQuiet(t testing.TB, args ...string) (string, string, int) {
	t.Helper()
	return runCommand(t, nil, "ctr", append([]string{"-a", c.sock, "-n", containerdNamespace}, args...)...)
}

// ctr runs ctr and fails the test unless it exits 0.
func (c *containerd) ctr(t testing.TB, args ...string) string {
	t.Helper()
	out, errs, code := c.ctrQuiet(t, args...)
	if code != 0 {
		t.Fatalf("ctr %s: exit %d: %s%s", strings.Join(args, " "), code, out, errs)
	}
	return out
}

// runFlags are the flags of `ctr run` for a container of runtime binary rt in
// a fresh cgroup under /berth (removed when the test ends).
func (c *containerd) runFlags(t testing.TB, rt string) []string {
	t.Helper()
	cg := kit.CgroupParent + "/ctr-" + randomSuffix()
	t.Cleanup(func() { removeClientCgroup(t, cg, true) })
	return []string{"--runc-binary", rt, "--runc-root", c.runcRoot, "--fifo-dir", c.fifoDir, "--cgroup", cg}
}

// taskStatus returns the STATUS column of `ctr task ls` for id ("" if none).
func (c *containerd) taskStatus(t testing.TB, id string) string {
	t.Helper()
	for _, line := range strings.Split(c.ctr(t, "task", "ls"), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == id {
			return f[2]
		}
	}
	return ""
}

// stop removes what containers are left, stops the daemon with SIGTERM and
// checks that its shims, mounts and runtime state are gone.
func (c *containerd) stop(t testing.TB) {
	if c.cmd == nil || c.cmd.Process == nil {
		return
	}
	select {
	case err := <-c.exited:
		t.Errorf("containerd died during the test: %v\n%s", err, c.log())
	default:
		for _, id := range c.listIDs(t, "task", "ls", "-q") {
			t.Errorf("task %s left running", id)
			c.ctrQuiet(t, "task", "kill", "-s", "SIGKILL", id)
			c.waitStatus(t, id, "STOPPED")
			c.ctrQuiet(t, "task", "delete", id)
		}
		for _, id := range c.listIDs(t, "containers", "ls", "-q") {
			t.Errorf("container %s left", id)
			c.ctrQuiet(t, "containers", "delete", id)
		}
		_ = c.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-c.exited:
		case <-time.After(time.Minute):
			t.Errorf("containerd (pid %d) ignores SIGTERM; killing it", c.cmd.Process.Pid)
			_ = c.cmd.Process.Kill()
			<-c.exited
		}
	}
	// A shim outlives the daemon by design; one that is still here had a
	// container the test did not delete.
	for _, pid := range pidsWithArg(c.sock) {
		t.Errorf("process %d (%s) of this containerd left behind; killing it", pid, procComm(pid))
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	unmountBelow(t, c.dir)
	entries, _ := filepath.Glob(filepath.Join(c.runcRoot, "*", "*"))
	for _, e := range entries {
		t.Errorf("runtime state %s left behind", e)
	}
}

// listIDs returns the first column of a `ctr … ls -q` listing.
func (c *containerd) listIDs(t testing.TB, args ...string) []string {
	out, _, code := c.ctrQuiet(t, args...)
	if code != 0 {
		return nil
	}
	return strings.Fields(out)
}

// waitStatus waits until id's task has status want, and fails the test if it
// never does.
func (c *containerd) waitStatus(t testing.TB, id, want string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		got := c.taskStatus(t, id)
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("task %s: status %q, want %q", id, got, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestContainerd(t *testing.T) {
	c := startContainerd(t)
	berth := testenv.Binary(t, "berth-runtime")

	t.Run("probe", func(t *testing.T) {
		out := c.ctr(t, append(append([]string{"run", "--rm"}, c.runFlags(t, berth)...), containerdImage, "probe-"+randomSuffix(), "/probe", "report")...)
		rep := decodeClientReport(t, out)
		assertClientContainer(t, rep, "/probe", "report")
		if root := rep.mount(t, "/"); root.FSType != "overlay" {
			t.Errorf("root is %s, want the overlayfs snapshot", root.FSType)
		}

		// runc, run by the same shim the same way, is the reference.
		runc := testenv.RequiresBinary(t, "runc")
		ref := c.ctr(t, append(append([]string{"run", "--rm"}, c.runFlags(t, runc)...), containerdImage, "probe-"+randomSuffix(), "/probe", "report")...)
		compareClientReports(t, ref, out)
	})

	t.Run("exit code", func(t *testing.T) {
		_, errs, code := c.ctrQuiet(t, append(append([]string{"run", "--rm"}, c.runFlags(t, berth)...), containerdImage, "exit-"+randomSuffix(), "sh", "-c", "exit 3")...)
		if code != 3 {
			t.Errorf("ctr run sh -c 'exit 3': exit %d, want 3: %s", code, errs)
		}
	})

	t.Run("task lifecycle", func(t *testing.T) {
		id := "task-" + randomSuffix()
		c.ctr(t, append(append([]string{"run", "-d", "--null-io"}, c.runFlags(t, berth)...), containerdImage, id, "sleep", "1000")...)
		if st := c.taskStatus(t, id); st != "RUNNING" {
			t.Fatalf("task %s after run -d: %q, want RUNNING", id, st)
		}
		if _, err := os.Stat(filepath.Join(c.runcRoot, containerdNamespace, id, "state.json")); err != nil {
			t.Errorf("berth-runtime state in --runc-root: %v", err)
		}

		rep := decodeClientReport(t, c.ctr(t, "task", "exec", "--fifo-dir", c.fifoDir, "--exec-id", "probe", id, "/probe", "report"))
		if rep.PID == 1 {
			t.Errorf("exec'd probe is pid 1, want another process in the task's pid namespace")
		}
		if len(rep.Cgroup) == 0 || !strings.Contains(rep.Cgroup[0], "/berth/ctr-") {
			t.Errorf("exec'd probe in cgroups %q, want the task's", rep.Cgroup)
		}
		if _, errs, code := c.ctrQuiet(t, "task", "exec", "--fifo-dir", c.fifoDir, "--exec-id", "exit", id, "sh", "-c", "exit 4"); code != 4 {
			t.Errorf("task exec sh -c 'exit 4': exit %d, want 4: %s", code, errs)
		}

		c.ctr(t, "task", "pause", id)
		if st := c.taskStatus(t, id); st != "PAUSED" {
			t.Errorf("after pause: %q, want PAUSED", st)
		}
		c.ctr(t, "task", "resume", id)
		if st := c.taskStatus(t, id); st != "RUNNING" {
			t.Errorf("after resume: %q, want RUNNING", st)
		}

		// sleep is pid 1 without a handler: SIGTERM does nothing, SIGKILL ends it.
		c.ctr(t, "task", "kill", "-s", "SIGKILL", id)
		c.waitStatus(t, id, "STOPPED")
		_, errs, _ := c.ctrQuiet(t, "task", "delete", id)
		if !strings.Contains(errs, "exit code 137") {
			t.Errorf("task delete: want the exit code 137 of SIGKILL reported, got %q", errs)
		}
		c.ctr(t, "containers", "delete", id)
		if _, err := os.Stat(filepath.Join(c.runcRoot, containerdNamespace, id)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("berth-runtime state of %s left after delete (%v)", id, err)
		}
	})
}

// Helpers shared with podman_test.go.

// runCommand runs name with args (and stdin) and returns stdout, stderr and
// the exit code; the test fails if the command cannot run at all.
func runCommand(t testing.TB, env []string, name string, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return out.String(), errb.String(), ee.ExitCode()
	case err != nil:
		t.Fatalf("run %s %v: %v", name, args, err)
	}
	return out.String(), errb.String(), 0
}

func randomSuffix() string {
	buf := make([]byte, 5)
	_, _ = rand.Read(buf) // crypto/rand.Read never fails
	return hex.EncodeToString(buf)
}

func decodeClientReport(t testing.TB, out string) *probeReport {
	t.Helper()
	var rep probeReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("parse probe report: %v\n%s", err, out)
	}
	return &rep
}

// assertClientContainer checks what any client's container must show: the
// process is pid 1 as root with args, in its own mount, pid, net, ipc and uts
// namespaces and in a cgroup under /berth in every hierarchy.
func assertClientContainer(t testing.TB, rep *probeReport, args ...string) {
	t.Helper()
	if rep.PID != 1 || rep.UID != 0 || rep.GID != 0 || !slices.Equal(rep.Args, args) {
		t.Errorf("pid %d uid %d gid %d args %q, want pid 1, uid 0, gid 0, args %q", rep.PID, rep.UID, rep.GID, rep.Args, args)
	}
	if len(rep.Errors) > 0 {
		t.Errorf("probe errors: %v", rep.Errors)
	}
	for _, ns := range []string{"mnt", "pid", "net", "ipc", "uts"} {
		host, err := os.Readlink("/proc/self/ns/" + ns)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Namespaces[ns] == "" || rep.Namespaces[ns] == host {
			t.Errorf("%s namespace %q, want a new one (host %s)", ns, rep.Namespaces[ns], host)
		}
	}
	if len(rep.Cgroup) == 0 {
		t.Errorf("no cgroups")
	}
	for _, l := range rep.Cgroup {
		if f := strings.SplitN(l, ":", 3); len(f) != 3 || !strings.HasPrefix(f[2], kit.CgroupParent+"/") {
			t.Errorf("cgroup %q, want one under %s", l, kit.CgroupParent)
		}
	}
}

// volatileInReport matches what differs between two runs of the same
// container: names made of random ids, and pipe inodes.
var volatileInReport = regexp.MustCompile(`/berth/[a-z]+-[0-9a-f]+(/libpod-[0-9a-f]+)?|pipe:\[[0-9]+\]|\b([0-9a-f]{64}|[0-9a-f]{12})\b`)

// compareClientReports compares the probe report of berth-runtime (got) with
// that of runc (want) under the same client, field by field, after dropping
// what differs between any two runs: random names and ids, pipe inodes,
// namespace inodes (only "new or the host's" is compared), mount ids and the
// snapshot directories of the root mount.
func compareClientReports(t testing.TB, want, got string) {
	t.Helper()
	w, g := normalizeClientReport(t, want), normalizeClientReport(t, got)
	keys := make([]string, 0, len(w))
	for k := range w {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if reflect.DeepEqual(w[k], g[k]) {
			continue
		}
		wl, wok := w[k].([]any)
		gl, gok := g[k].([]any)
		if !wok || !gok {
			wj, _ := json.Marshal(w[k])
			gj, _ := json.Marshal(g[k])
			t.Errorf("%s differs from runc's:\nrunc:  %s\nberth: %s", k, wj, gj)
			continue
		}
		// Lists: name the elements that only one side has.
		wj, gj := jsonEach(wl), jsonEach(gl)
		for _, e := range wj {
			if !slices.Contains(gj, e) {
				t.Errorf("%s: runc has, berth-runtime lacks: %s", k, e)
			}
		}
		for _, e := range gj {
			if !slices.Contains(wj, e) {
				t.Errorf("%s: berth-runtime has, runc lacks: %s", k, e)
			}
		}
		if slices.Equal(slices.Sorted(slices.Values(wj)), slices.Sorted(slices.Values(gj))) {
			t.Errorf("%s: same elements in another order:\nrunc:  %q\nberth: %q", k, wj, gj)
		}
	}
	for k := range g {
		if _, ok := w[k]; !ok {
			t.Errorf("%s reported under berth-runtime only", k)
		}
	}
}

func normalizeClientReport(t testing.TB, out string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(volatileInReport.ReplaceAllString(out, "X")), &m); err != nil {
		t.Fatalf("parse probe report: %v\n%s", err, out)
	}
	if ns, ok := m["namespaces"].(map[string]any); ok {
		for k, v := range ns {
			host, _ := os.Readlink("/proc/self/ns/" + k)
			ns[k] = v == host
		}
	}
	// Podman builds the environment and the mounts from maps: their order
	// changes from one container to the next.
	if env, ok := m["env"].([]any); ok {
		sort.Slice(env, func(i, j int) bool { return fmt.Sprint(env[i]) < fmt.Sprint(env[j]) })
	}
	if mounts, ok := m["mounts"].([]any); ok {
		kept := mounts[:0]
		for i, mt := range mounts {
			mm, _ := mt.(map[string]any)
			delete(mm, "id")
			delete(mm, "parent")
			delete(mm, "dev")
			if i == 0 { // the root: snapshot paths
				delete(mm, "root")
				delete(mm, "super_options")
			}
			if knownMountDifference(mm) {
				continue
			}
			kept = append(kept, mm)
		}
		sort.SliceStable(kept, func(i, j int) bool {
			return fmt.Sprint(kept[i].(map[string]any)["mountpoint"]) < fmt.Sprint(kept[j].(map[string]any)["mountpoint"])
		})
		m["mounts"] = kept
	}
	return m
}

// knownMountDifference smooths over the deliberate differences between the
// mounts of berth-runtime and runc 1.1.5 in mount m, and reports whether m is
// to be left out of the comparison.
func knownMountDifference(m map[string]any) bool {
	options := asStrings(m["options"])
	switch {
	// A "ro" cgroup mount on a v1 host: runc 1.1.5 leaves the tmpfs at
	// /sys/fs/cgroup writable (only the hierarchies below are read-only);
	// berth-runtime makes it read-only as the spec asks.
	case m["mountpoint"] == "/sys/fs/cgroup" && m["fstype"] == "tmpfs":
		m["options"] = slices.DeleteFunc(options, func(o string) bool { return o == "ro" || o == "rw" })
	// berth-runtime masks a directory with an empty tmpfs "size=0k,mode=555"
	// (as crun does), runc with a plain read-only tmpfs.
	case m["fstype"] == "tmpfs" && slices.Contains(options, "ro"):
		m["super_options"] = slices.DeleteFunc(asStrings(m["super_options"]), func(o string) bool {
			return o == "size=0k" || o == "mode=555"
		})
	// On a hybrid host berth-runtime also binds the container's cgroup of
	// the unified hierarchy; runc 1.1.5 shows only the v1 hierarchies.
	case m["mountpoint"] == "/sys/fs/cgroup/unified" && m["fstype"] == "cgroup2":
		return true
	}
	return false
}

func jsonEach(l []any) []string {
	out := make([]string, len(l))
	for i, e := range l {
		data, _ := json.Marshal(e)
		out[i] = string(data)
	}
	return out
}

func asStrings(v any) []string {
	l, _ := v.([]any)
	out := make([]string, 0, len(l))
	for _, e := range l {
		s, _ := e.(string)
		out = append(out, s)
	}
	return out
}

// removeClientCgroup removes the cgroup at path (below /berth) from every
// hierarchy. A client's runtime must have removed the container's cgroup;
// with mustBeGone a directory that was still there fails the test.
func removeClientCgroup(t testing.TB, path string, mustBeGone bool) {
	t.Helper()
	dirs, _ := filepath.Glob(filepath.Join("/sys/fs/cgroup", "*", path))
	dirs = append(dirs, filepath.Join("/sys/fs/cgroup", path))
	seen := map[string]bool{}
	for _, d := range dirs {
		real, err := filepath.EvalSymlinks(d) // "cpu" links to "cpu,cpuacct"
		if err != nil || seen[real] {
			continue
		}
		seen[real] = true
		if mustBeGone {
			t.Errorf("cgroup %s left behind", real)
		}
		// A client's helper (Podman's conmon) may still be leaving the
		// cgroup: rmdir fails with EBUSY until it has.
		deadline := time.Now().Add(time.Minute)
		for {
			err := removeCgroupTree(real)
			if err == nil {
				break
			}
			if !errors.Is(err, syscall.EBUSY) || time.Now().After(deadline) {
				t.Errorf("remove cgroup: %v", err)
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	// The berth parent goes once empty; it stays while others use it.
	parents, _ := filepath.Glob(filepath.Join("/sys/fs/cgroup", "*", kit.CgroupParent))
	for _, p := range append(parents, filepath.Join("/sys/fs/cgroup", kit.CgroupParent)) {
		_ = syscall.Rmdir(p)
	}
}

// removeCgroupTree removes a cgroup directory, below-first.
func removeCgroupTree(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("read cgroup %s: %w", dir, err)
	}
	for _, e := range entries {
		if e.IsDir() {
			if err := removeCgroupTree(filepath.Join(dir, e.Name())); err != nil {
				return err
			}
		}
	}
	if err := syscall.Rmdir(dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("rmdir %s: %w", dir, err)
	}
	return nil
}

// pidsWithArg returns the processes whose command line has arg as one of its
// arguments (a daemon's private socket or directory: only ours have it).
func pidsWithArg(arg string) []int {
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		var pid int
		if _, err := fmt.Sscanf(e.Name(), "%d", &pid); err != nil || pid == os.Getpid() {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		for _, a := range bytes.Split(cmdline, []byte{0}) {
			if strings.Contains(string(a), arg) {
				pids = append(pids, pid)
				break
			}
		}
	}
	return pids
}

func procComm(pid int) string {
	data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	return strings.TrimSpace(string(data))
}

// unmountBelow fails the test for each mount left under dir and unmounts it.
func unmountBelow(t testing.TB, dir string) {
	t.Helper()
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) > 4 && (f[4] == dir || strings.HasPrefix(f[4], dir+"/")) {
			left = append(left, f[4])
		}
	}
	sort.Sort(sort.Reverse(sort.StringSlice(left))) // deepest first
	for _, m := range left {
		t.Errorf("mount %s left behind", m)
		if err := unix.Unmount(m, unix.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", m, err)
		}
	}
}

// absentPaths returns those of paths that do not exist now.
func absentPaths(paths ...string) []string {
	var absent []string
	for _, p := range paths {
		if _, err := os.Lstat(p); errors.Is(err, fs.ErrNotExist) {
			absent = append(absent, p)
		}
	}
	return absent
}

// removeCreated removes, in order, those of paths (from absentPaths) that are
// files or empty directories: what a client created on the host. A directory
// that someone else has put something in meanwhile stays.
func removeCreated(paths []string) {
	for _, p := range paths {
		_ = os.Remove(p)
	}
}
