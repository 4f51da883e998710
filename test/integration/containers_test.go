package integration

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/berth-project/berth/internal/testenv"
)

// TestContainers is the container scenario suite (issue 5): every
// container verb through the berth CLI, on the kit's busybox image from the
// local registry, once with berth-runtime and once with runc, the two at
// the same time, each over a root of its own. See containers_harness_test.go
// for how the cases run and what they check after themselves.
func TestContainers(t *testing.T) {
	testenv.RequiresRoot(t)
	runtimes := []string{"", "runc"}
	var wg sync.WaitGroup
	for _, rt := range runtimes {
		name := rt
		if name == "" {
			name = "berth-runtime"
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			t.Run(name, func(t *testing.T) {
				if rt == "runc" {
					testenv.RequiresBinary(t, "runc")
				}
				s := newCtrSuite(t, rt)
				s.runCases(t, 4, append(ctrCases(), ctrBadCases()...))
				s.runCases(t, 1, ctrSerialCases())
			})
		}()
	}
	wg.Wait()
}

// ctrCases are the scenarios that may run beside each other.
func ctrCases() []ctrCaseFunc {
	return []ctrCaseFunc{
		{"run/exit-codes", caseRunExitCodes},
		{"run/rm", caseRunRm},
		{"run/detach-name", caseRunDetachName},
		{"run/process", caseRunProcess},
		{"run/volumes", caseRunVolumes},
		{"run/binds", caseRunBinds},
		{"run/tmpfs-read-only", caseRunReadOnly},
		{"run/resources", caseRunResources},
		{"run/pids-limit", caseRunPidsLimit},
		{"run/ulimit", caseRunUlimit},
		{"run/capabilities", caseRunCaps},
		{"run/security-opt", caseRunSecurityOpt},
		{"run/user-group-add", caseRunUser},
		{"run/hostname", caseRunHostname},
		{"run/init", caseRunInit},
		{"run/stop-signal-timeout", caseRunStopSignal},
		{"run/labels", caseRunLabels},
		{"run/log-rotation", caseRunLogRotation},
		{"run/stdin", caseRunStdin},
		{"run/tty", caseRunTTY},
		{"run/network", caseRunNetwork},
		{"run/restart-on-failure", caseRunRestartOnFailure},
		{"run/restart-always-stop", caseRunRestartAlwaysStop},
		{"run/health", caseRunHealth},
		{"run/sig-proxy", caseRunSigProxy},
		{"create-start", caseCreateStart},
		{"stop-kill-restart", caseStopKillRestart},
		{"pause", casePause},
		{"wait", caseWait},
		{"rm", caseRm},
		{"ps", casePs},
		{"logs", caseLogs},
		{"exec", caseExec},
		{"attach", caseAttach},
		{"inspect", caseInspect},
		{"rename", caseRename},
		{"volume", caseVolume},
		{"rmi-in-use", caseRmiInUse},
	}
}

// ctrSerialCases change what every case sees (prune), so they run alone
// after the others.
func ctrSerialCases() []ctrCaseFunc {
	return []ctrCaseFunc{
		{"container-prune", caseContainerPrune},
		{"volume-prune", caseVolumePrune},
	}
}

func caseRunExitCodes(c *ctrCase) {
	t := c.t
	out, errs, code := c.fg([]string{"--rm"}, "echo", "hi")
	if code != 0 || out != "hi\n" {
		t.Errorf("run echo hi: exit %d, stdout %q, stderr %q; want 0 and hi", code, out, errs)
	}
	for _, tc := range []struct {
		cmd  []string
		code int
	}{
		{[]string{"/probe", "exit", "3"}, 3},
		{[]string{"sh", "-c", "exit 42"}, 42},
		{[]string{"nosuchcommand"}, 127},
		{[]string{"/nosuch/path"}, 127},
		{[]string{"/etc/passwd"}, 126}, // not executable
		{[]string{"/etc"}, 126},        // a directory
	} {
		_, errs, code := c.fg([]string{"--rm"}, tc.cmd...)
		if code != tc.code {
			t.Errorf("run %q: exit %d, want %d\n%s", tc.cmd, code, tc.code, errs)
		}
		if tc.code >= 126 && !strings.Contains(errs, tc.cmd[0]) {
			t.Errorf("run %q: stderr %q does not name the command", tc.cmd, errs)
		}
	}
	// The same without --rm: the container stays, exited, with the code.
	_, _, code = c.fg([]string{"--name", c.name("three")}, "/probe", "exit", "3")
	if code != 3 {
		t.Errorf("run /probe exit 3: exit %d", code)
	}
	i := c.inspect(c.name("three"))
	if i.State.Status != "exited" || i.State.ExitCode != 3 || i.State.Running || i.State.FinishedAt.IsZero() {
		t.Errorf("inspect after exit 3: %+v", i.State)
	}
	if out := c.must("ps", "-a", "-q", "--filter", "label="+c.label); len(outLines(out)) != 1 {
		t.Errorf("ps -a after four --rm runs and one without: %q, want one container", out)
	}
}

// volumeOf returns the volume name in a mountinfo line of a volume mount
// (its root is …/volumes/<name>/_data).
var volumeRoot = regexp.MustCompile(`/volumes/([^/ ]+)/_data `)

func caseRunRm(c *ctrCase) {
	t := c.t
	out, errs, code := c.fg([]string{"--rm", "--name", c.name("rm"), "-v", "/data"}, "sh", "-c", "echo x > /data/f; grep ' /data ' /proc/self/mountinfo")
	if code != 0 {
		t.Fatalf("run --rm -v /data: exit %d: %s", code, errs)
	}
	m := volumeRoot.FindStringSubmatch(out)
	if m == nil || !fullID.MatchString(m[1]) {
		t.Fatalf("run --rm -v /data: mountinfo %q names no anonymous volume", out)
	}
	if _, _, code := c.berth("inspect", c.name("rm")); code == 0 {
		t.Errorf("--rm container %s still there after run returned", c.name("rm"))
	}
	if out, _, code := c.berth("volume", "inspect", m[1]); code == 0 {
		t.Errorf("anonymous volume %s of a --rm container left: %s", m[1], out)
	}
	if _, err := os.Stat(filepath.Join(c.b.root, "volumes", m[1])); !os.IsNotExist(err) {
		t.Errorf("anonymous volume dir %s left: %v", m[1], err)
	}
	// A named volume outlives --rm.
	vol := c.name("keep")
	c.must("run", "--rm", "-v", vol+":/data", c.image, "true")
	c.must("volume", "inspect", vol)
	c.must("volume", "rm", vol)

	// --rm with -d: gone once it exits.
	id := c.detach([]string{"--rm"}, "/probe", "sleep", "0.2")
	c.waitFor("the -d --rm container to go", func() bool {
		_, _, code := c.berth("inspect", id)
		return code != 0
	})
}

func caseRunDetachName(c *ctrCase) {
	t := c.t
	name := c.name("web")
	id := c.detach([]string{"--name", name}, "/probe", "sleep", "100")
	i := c.inspect(name)
	if i.ID != id || i.Name != "/"+name || !i.State.Running || i.State.Pid <= 0 {
		t.Errorf("inspect %s: Id %s Name %s State %+v", name, i.ID, i.Name, i.State)
	}
	if got := c.inspect(id[:8]).ID; got != id {
		t.Errorf("inspect by ID prefix: %s", got)
	}
	before := len(outLines(c.must("ps", "-a", "-q", "--no-trunc")))
	_, errs := c.expect(125, "run", "-d", "--name", name, c.image, "true")
	if !strings.Contains(errs, "already in use") {
		t.Errorf("second --name %s: stderr %q, want 'already in use'", name, errs)
	}
	_, errs = c.expect(125, "create", "--name", name, c.image, "true")
	if !strings.Contains(errs, "already in use") {
		t.Errorf("create --name %s: stderr %q", name, errs)
	}
	_, _ = c.expect(125, "run", "--name", "bad/name", c.image, "true")
	// Nothing of the refused ones is left (the other cases' containers
	// come and go, so look at ours).
	if out := c.must("ps", "-a", "-q", "--no-trunc", "--filter", "label="+c.label); len(outLines(out)) != 1 {
		t.Errorf("after refused names: containers %q, want only %s", out, id)
	}
	_ = before
	c.must("rm", "-f", name)
	// The name is free again.
	id2 := c.detach([]string{"--name", name}, "true")
	if id2 == id {
		t.Errorf("a new container got the old ID")
	}
}

// ctrReport runs `/probe report` in a new container with flags and
// decodes it.
type ctrReport struct {
	UID, GID, EUID, EGID int
	Groups               []int
	Cwd, Hostname        string
	Env, Args            []string
	NoNewPrivs           bool `json:"no_new_privs"`
	Seccomp              struct{ Mode int }
	Rlimits              map[string]struct{ Soft, Hard int64 }
	TTY                  bool
}

func (c *ctrCase) report(flags []string, cmd ...string) ctrReport {
	c.t.Helper()
	if len(cmd) == 0 {
		cmd = []string{"/probe", "report"}
	}
	out, errs, code := c.fg(append([]string{"--rm"}, flags...), cmd...)
	if code != 0 {
		c.t.Fatalf("run %q %q: exit %d: %s", flags, cmd, code, errs)
	}
	var r ctrReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		c.t.Fatalf("run %q: probe report: %v\n%s", flags, err, out)
	}
	return r
}

func caseRunProcess(c *ctrCase) {
	t := c.t
	envFile := filepath.Join(t.TempDir(), "env")
	if err := os.WriteFile(envFile, []byte("# comment\nFROM_FILE=yes\n\nBOTH=file\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := c.report([]string{"-e", "A=1", "-e", "BOTH=flag", "--env-file", envFile, "-w", "/tmp/work", "-u", "1000:1001"})
	for _, want := range []string{"A=1", "FROM_FILE=yes", "BOTH=flag", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"} {
		if !slices.Contains(r.Env, want) {
			t.Errorf("env %q lacks %s", r.Env, want)
		}
	}
	if slices.Contains(r.Env, "BOTH=file") {
		t.Errorf("env %q: -e must win over --env-file", r.Env)
	}
	if r.Cwd != "/tmp/work" || r.UID != 1000 || r.GID != 1001 {
		t.Errorf("-w /tmp/work -u 1000:1001: cwd %s uid %d gid %d", r.Cwd, r.UID, r.GID)
	}
	// --entrypoint replaces the image's; the rest are its arguments.
	out, errs, code := c.fg([]string{"--rm", "--entrypoint", "/probe"}, "exit", "4")
	if code != 4 {
		t.Errorf("--entrypoint /probe exit 4: exit %d %s%s", code, out, errs)
	}
	// --entrypoint "" clears it: the command runs alone.
	out, _, code = c.fg([]string{"--rm", "--entrypoint", ""}, "echo", "plain")
	if code != 0 || out != "plain\n" {
		t.Errorf(`--entrypoint "" echo plain: exit %d %q`, code, out)
	}
	// With neither, the image's Cmd (sh) runs: with stdin closed it exits 0.
	if _, errs, code := c.fg([]string{"--rm"}); code != 0 {
		t.Errorf("run with the image's Cmd: exit %d %s", code, errs)
	}
	id := c.create([]string{"--entrypoint", "/probe", "-e", "A=1", "-w", "/srv", "-u", "12"}, "sleep", "1")
	i := c.inspect(id)
	if !slices.Equal(i.Config.Entrypoint, []string{"/probe"}) || !slices.Equal(i.Config.Cmd, []string{"sleep", "1"}) ||
		i.Config.WorkingDir != "/srv" || i.Config.User != "12" || !slices.Contains(i.Config.Env, "A=1") ||
		i.Path != "/probe" || !slices.Equal(i.Args, []string{"sleep", "1"}) {
		t.Errorf("inspect Config %+v Path %s Args %q", i.Config, i.Path, i.Args)
	}
}

func caseRunVolumes(c *ctrCase) {
	t := c.t
	vol := c.name("data")
	c.must("run", "--rm", "-v", vol+":/data", c.image, "sh", "-c", "echo persisted > /data/f")
	out := c.must("run", "--rm", "-v", vol+":/data:ro", c.image, "cat", "/data/f")
	if out != "persisted\n" {
		t.Errorf("a second container reads %q from volume %s", out, vol)
	}
	if _, errs, code := c.fg([]string{"--rm", "-v", vol + ":/data:ro"}, "touch", "/data/g"); code == 0 || !strings.Contains(errs, "Read-only") {
		t.Errorf("touch in a :ro volume: exit %d %q", code, errs)
	}
	c.must("volume", "rm", vol)
}

func caseRunBinds(c *ctrCase) {
	t := c.t
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "in"), []byte("from host"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := c.must("run", "--rm", "-v", dir+":/h", c.image, "sh", "-c", "cat /h/in; echo from ctr > /h/out")
	if out != "from host" {
		t.Errorf("cat of a bind: %q", out)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "out")); string(b) != "from ctr\n" {
		t.Errorf("written through the bind: %q", b)
	}
	if _, errs, code := c.fg([]string{"--rm", "-v", dir + ":/h:ro"}, "touch", "/h/new"); code == 0 || !strings.Contains(errs, "Read-only") {
		t.Errorf("touch in a :ro bind: exit %d %q", code, errs)
	}
	if _, err := os.Stat(filepath.Join(dir, "new")); err == nil {
		t.Errorf("a :ro bind was written")
	}
	// --mount type=bind,readonly the same.
	if _, _, code := c.fg([]string{"--rm", "--mount", "type=bind,source=" + dir + ",target=/h,readonly"}, "touch", "/h/new"); code == 0 {
		t.Errorf("touch in a --mount readonly bind succeeded")
	}
	// -v creates a missing host directory.
	missing := filepath.Join(dir, "made", "by", "berth")
	c.must("run", "--rm", "-v", missing+":/m", c.image, "touch", "/m/x")
	if _, err := os.Stat(filepath.Join(missing, "x")); err != nil {
		t.Errorf("-v with a missing host dir: %v", err)
	}
	// inspect shows the bind.
	id := c.create([]string{"-v", dir + ":/h:ro"}, "true")
	i := c.inspect(id)
	if len(i.Mounts) != 1 || i.Mounts[0].Type != "bind" || i.Mounts[0].Source != dir || i.Mounts[0].Destination != "/h" || i.Mounts[0].RW {
		t.Errorf("inspect Mounts %+v", i.Mounts)
	}
}

func caseRunReadOnly(c *ctrCase) {
	t := c.t
	_, errs, code := c.fg([]string{"--rm", "--read-only"}, "touch", "/x")
	if code == 0 || !strings.Contains(errs, "Read-only file system") {
		t.Errorf("--read-only touch /x: exit %d %q", code, errs)
	}
	out, errs, code := c.fg([]string{"--rm", "--read-only", "--tmpfs", "/tmp", "--tmpfs", "/scratch:size=1m"},
		"sh", "-c", "touch /tmp/x && echo tmp-ok; grep -E ' /(tmp|scratch) ' /proc/self/mountinfo")
	if code != 0 || !strings.Contains(out, "tmp-ok") {
		t.Errorf("--read-only --tmpfs /tmp: exit %d %q %q", code, out, errs)
	}
	if !regexp.MustCompile(` /tmp .* - tmpfs `).MatchString(out) || !regexp.MustCompile(` /scratch .*- tmpfs .*size=1024k`).MatchString(out) {
		t.Errorf("--tmpfs mounts: %q", out)
	}
}

func caseRunResources(c *ctrCase) {
	t := c.t
	id := c.detach([]string{"-m", "64m", "--cpus", "0.5", "--pids-limit", "50"}, "/probe", "sleep", "100")
	if got := ctrFileText(filepath.Join(cgroupDir("memory", id), "memory.limit_in_bytes")); got != "67108864" {
		t.Errorf("-m 64m: memory.limit_in_bytes %q, want 67108864", got)
	}
	quota := ctrFileText(filepath.Join(cgroupDir("cpu", id), "cpu.cfs_quota_us"))
	period := ctrFileText(filepath.Join(cgroupDir("cpu", id), "cpu.cfs_period_us"))
	q, _ := strconv.Atoi(quota)
	p, _ := strconv.Atoi(period)
	if p == 0 || q*2 != p {
		t.Errorf("--cpus 0.5: cfs quota %q period %q", quota, period)
	}
	if got := ctrFileText(filepath.Join(cgroupDir("pids", id), "pids.max")); got != "50" {
		t.Errorf("--pids-limit 50: pids.max %q", got)
	}
	// The container's processes are in those cgroups.
	pid := c.inspect(id).State.Pid
	if procs := ctrFileText(filepath.Join(cgroupDir("memory", id), "cgroup.procs")); !slices.Contains(strings.Fields(procs), strconv.Itoa(pid)) {
		t.Errorf("memory cgroup procs %q lack the container's pid %d", procs, pid)
	}
	_, errs := c.expect(125, "run", "--rm", "-m", "1x", c.image, "true")
	if !strings.Contains(errs, "1x") {
		t.Errorf("-m 1x: %q", errs)
	}
}

func caseRunPidsLimit(c *ctrCase) {
	t := c.t
	// 30 background sleeps cannot all fork under a limit of 10.
	_, errs, code := c.fg([]string{"--rm", "--pids-limit", "10"}, "sh", "-c", "for i in $(seq 30); do sleep 5 & done; wait")
	if code == 0 || !strings.Contains(errs, "can't fork") {
		t.Errorf("a fork loop under --pids-limit 10: exit %d, stderr %q; want a fork failure", code, errs)
	}
}

func caseRunUlimit(c *ctrCase) {
	t := c.t
	r := c.report([]string{"--ulimit", "nofile=100:100", "--ulimit", "nproc=50:60"})
	if l := r.Rlimits["RLIMIT_NOFILE"]; l.Soft != 100 || l.Hard != 100 {
		t.Errorf("--ulimit nofile=100:100: %+v", l)
	}
	if l := r.Rlimits["RLIMIT_NPROC"]; l.Soft != 50 || l.Hard != 60 {
		t.Errorf("--ulimit nproc=50:60: %+v", l)
	}
	if out := c.must("run", "--rm", "--ulimit", "nofile=100:100", c.image, "sh", "-c", "ulimit -n"); out != "100\n" {
		t.Errorf("ulimit -n: %q", out)
	}
}

// capEff is the CapEff mask of /proc/self/status in a container run with
// flags.
func (c *ctrCase) capEff(flags ...string) uint64 {
	c.t.Helper()
	out := c.must(append(append([]string{"run", "--rm"}, flags...), c.image, "grep", "CapEff", "/proc/self/status")...)
	f := strings.Fields(out)
	if len(f) != 2 {
		c.t.Fatalf("CapEff line %q", out)
	}
	n, err := strconv.ParseUint(f[1], 16, 64)
	if err != nil {
		c.t.Fatalf("CapEff %q: %v", out, err)
	}
	return n
}

func caseRunCaps(c *ctrCase) {
	t := c.t
	const (
		capChown    = 0
		capNetRaw   = 13
		capSysAdmin = 21
	)
	def := c.capEff()
	if def&(1<<capChown) == 0 || def&(1<<capSysAdmin) != 0 {
		t.Errorf("default CapEff %#x: want CAP_CHOWN, not CAP_SYS_ADMIN", def)
	}
	if got := c.capEff("--cap-drop", "CHOWN", "--cap-add", "SYS_ADMIN"); got&(1<<capChown) != 0 || got&(1<<capSysAdmin) == 0 {
		t.Errorf("--cap-drop CHOWN --cap-add SYS_ADMIN: CapEff %#x", got)
	}
	if got := c.capEff("--cap-drop", "ALL", "--cap-add", "NET_RAW"); got != 1<<capNetRaw {
		t.Errorf("--cap-drop ALL --cap-add NET_RAW: CapEff %#x, want %#x", got, 1<<capNetRaw)
	}
	// --privileged: every capability berth has itself (its bounding set,
	// which may lack some where the tests run in a sandbox).
	var bnd uint64
	for _, l := range strings.Split(ctrFileText("/proc/self/status"), "\n") {
		if v, ok := strings.CutPrefix(l, "CapBnd:"); ok {
			bnd, _ = strconv.ParseUint(strings.TrimSpace(v), 16, 64)
		}
	}
	if got := c.capEff("--privileged"); got != bnd || bnd == 0 {
		t.Errorf("--privileged: CapEff %#x, want the host's bounding set %#x", got, bnd)
	}
	if got := c.capEff("--cap-add", "ALL"); got != bnd {
		t.Errorf("--cap-add ALL: CapEff %#x, want %#x", got, bnd)
	}
	id := c.detach(nil, "/probe", "sleep", "100")
	if out := c.execOut(id, "grep", "CapEff", "/proc/self/status"); !strings.Contains(out, fmt.Sprintf("%016x", def)) {
		t.Errorf("exec: %q, want the container's CapEff %016x", out, def)
	}
	if out := c.must("exec", "--privileged", id, "grep", "CapEff", "/proc/self/status"); !strings.Contains(out, fmt.Sprintf("%016x", bnd)) {
		t.Errorf("exec --privileged: %q, want %016x", out, bnd)
	}
	// --privileged also has the host's devices, and no seccomp.
	out := c.must("run", "--rm", "--privileged", c.image, "sh", "-c", "grep Seccomp: /proc/self/status; test -c /dev/kmsg && echo kmsg; test -e /dev/loop-control && echo loop")
	if !strings.Contains(out, "Seccomp:\t0") || !strings.Contains(out, "kmsg") || !strings.Contains(out, "loop") {
		t.Errorf("--privileged: %q, want no seccomp and the host's /dev/kmsg and /dev/loop-control", out)
	}
	if out, _, _ := c.fg([]string{"--rm"}, "sh", "-c", "test -e /dev/kmsg && echo kmsg"); strings.Contains(out, "kmsg") {
		t.Errorf("a container without --privileged has /dev/kmsg")
	}
	if _, errs, code := c.fg([]string{"--rm", "--cap-add", "NOSUCH"}, "true"); code != 125 || !strings.Contains(strings.ToUpper(errs), "NOSUCH") {
		t.Errorf("--cap-add NOSUCH: exit %d %q", code, errs)
	}
}

func caseRunSecurityOpt(c *ctrCase) {
	t := c.t
	status := func(flags ...string) string {
		return c.must(append(append([]string{"run", "--rm"}, flags...), c.image, "grep", "-E", "^(NoNewPrivs|Seccomp):", "/proc/self/status")...)
	}
	if out := status(); !strings.Contains(out, "NoNewPrivs:\t0") || !strings.Contains(out, "Seccomp:\t2") {
		t.Errorf("defaults: %q, want NoNewPrivs 0 and a seccomp filter", out)
	}
	if out := status("--security-opt", "no-new-privileges"); !strings.Contains(out, "NoNewPrivs:\t1") {
		t.Errorf("--security-opt no-new-privileges: %q", out)
	}
	if out := status("--security-opt", "seccomp=unconfined"); !strings.Contains(out, "Seccomp:\t0") {
		t.Errorf("--security-opt seccomp=unconfined: %q", out)
	}
	// The default profile refuses what it must (unshare of a user
	// namespace needs CAP_SYS_ADMIN in docker's profile).
	if _, errs, code := c.fg([]string{"--rm"}, "sh", "-c", "unshare -U true"); code == 0 || !strings.Contains(errs, "not permitted") {
		t.Errorf("unshare -U under the default seccomp profile: exit %d %q, want EPERM", code, errs)
	}
	if out, errs, code := c.fg([]string{"--rm", "--privileged"}, "sh", "-c", "unshare -U echo unshared"); code != 0 || out != "unshared\n" {
		t.Errorf("unshare -U with --privileged (no seccomp): exit %d %q %q", code, out, errs)
	}
}

func caseRunUser(c *ctrCase) {
	t := c.t
	r := c.report([]string{"-u", "1000", "--group-add", "123", "--group-add", "124"})
	if r.UID != 1000 || !slices.Contains(r.Groups, 123) || !slices.Contains(r.Groups, 124) {
		t.Errorf("-u 1000 --group-add 123,124: uid %d groups %v", r.UID, r.Groups)
	}
	// A user of the image's /etc/passwd by name.
	out := c.must("run", "--rm", "-u", "nobody", c.image, "id", "-u")
	if strings.TrimSpace(out) != "65534" {
		t.Errorf("-u nobody: id -u %q", out)
	}
	if _, errs, code := c.fg([]string{"--rm", "-u", "nosuchuser"}, "true"); code == 0 || !strings.Contains(errs, "nosuchuser") {
		t.Errorf("-u nosuchuser: exit %d %q", code, errs)
	}
}

func caseRunHostname(c *ctrCase) {
	t := c.t
	out := c.must("run", "--rm", "--hostname", "web1", c.image, "sh", "-c", "cat /etc/hostname; hostname")
	if out != "web1\nweb1\n" {
		t.Errorf("--hostname web1: %q", out)
	}
	id := c.detach(nil, "/probe", "sleep", "100")
	if out := c.execOut(id, "hostname"); out != id[:12]+"\n" {
		t.Errorf("default hostname %q, want %s", out, id[:12])
	}
	if i := c.inspect(id); i.Config.Hostname != id[:12] {
		t.Errorf("inspect Config.Hostname %q", i.Config.Hostname)
	}
}

func caseRunInit(c *ctrCase) {
	t := c.t
	out := c.must("run", "--rm", "--init", c.image, "sh", "-c", `tr '\0' ' ' </proc/1/cmdline; echo; echo $$`)
	lines := outLines(out)
	if len(lines) != 2 || !strings.Contains(lines[0], "init") || !strings.Contains(lines[0], "sh -c") || lines[1] == "1" {
		t.Errorf("--init: pid 1 and the shell's pid: %q, want an init at pid 1 running sh", out)
	}
	// pid 1 is the host's catatonit (or tini) itself.
	var initPath string
	for _, p := range []string{"/usr/libexec/podman/catatonit", "/usr/bin/catatonit", "/usr/bin/tini-static", "/usr/bin/tini"} {
		if _, err := os.Stat(p); err == nil {
			initPath = p
			break
		}
	}
	if initPath == "" {
		t.Fatalf("no catatonit or tini on the host (apt-get install catatonit)")
	}
	want, err := os.ReadFile(initPath)
	if err != nil {
		t.Fatal(err)
	}
	// (The image links few applets; busybox's sh runs the others.)
	sum := c.must("run", "--rm", "--init", c.image, "sh", "-c", "sha256sum /proc/1/exe")
	if f := strings.Fields(sum); len(f) == 0 || f[0] != fmt.Sprintf("%x", sha256.Sum256(want)) {
		t.Errorf("--init: pid 1's binary %q is not %s", sum, initPath)
	}
	// The init forwards stop's SIGTERM to its child and reaps it.
	id := c.detach([]string{"--init"}, "/probe", "signals")
	c.waitFor("the probe to be ready", func() bool { return strings.Contains(c.must("logs", id), "ready") })
	c.must("stop", "-t", "20", id)
	i := c.inspect(id)
	if i.State.ExitCode != 0 || !strings.Contains(c.must("logs", id), "SIGTERM") {
		t.Errorf("stop with --init: exit %d, logs %q", i.State.ExitCode, c.must("logs", id))
	}
}

func caseRunStopSignal(c *ctrCase) {
	t := c.t
	// The probe exits 0 on SIGTERM only: with --stop-signal USR1 it stays,
	// and stop kills it after -t.
	id := c.detach([]string{"--stop-signal", "SIGUSR1", "--stop-timeout", "1"}, "/probe", "signals")
	c.waitFor("the probe to be ready", func() bool { return strings.Contains(c.must("logs", id), "ready") })
	c.must("stop", id) // the container's --stop-timeout 1
	i := c.inspect(id)
	logs := c.must("logs", id)
	if i.State.ExitCode != 137 || !strings.Contains(logs, "SIGUSR1") || strings.Contains(logs, "SIGTERM") {
		t.Errorf("stop with --stop-signal USR1: exit %d, logs %q; want SIGUSR1 then SIGKILL (137)", i.State.ExitCode, logs)
	}
	if i.Config.StopSignal != "SIGUSR1" {
		t.Errorf("inspect Config.StopSignal %q", i.Config.StopSignal)
	}
	// stop -t 0 kills at once.
	id = c.detach(nil, "/probe", "signals")
	c.waitFor("the probe to be ready", func() bool { return strings.Contains(c.must("logs", id), "ready") })
	c.must("stop", "-t", "0", id)
	if i := c.inspect(id); i.State.ExitCode != 137 {
		t.Errorf("stop -t 0: exit %d, want 137", i.State.ExitCode)
	}
	_, _ = c.expect(125, "run", "--rm", "--stop-signal", "SIGNOPE", c.image, "true")
}

func caseRunLabels(c *ctrCase) {
	t := c.t
	id := c.create([]string{"--label", "tier=web", "-l", "empty="}, "true")
	i := c.inspect(id)
	if i.Config.Labels["tier"] != "web" || i.Config.Labels["empty"] != "" {
		t.Errorf("labels %v", i.Config.Labels)
	}
	out := c.must("ps", "-a", "-q", "--no-trunc", "--filter", "label=tier=web", "--filter", "label="+c.label)
	if strings.TrimSpace(out) != id {
		t.Errorf("ps --filter label=tier=web: %q", out)
	}
	out = c.must("ps", "-a", "-q", "--filter", "label=tier=db", "--filter", "label="+c.label)
	if out != "" {
		t.Errorf("ps --filter label=tier=db: %q", out)
	}
}

func caseRunLogRotation(c *ctrCase) {
	t := c.t
	id := c.detach([]string{"--log-driver", "json-file", "--log-opt", "max-size=1k", "--log-opt", "max-file=3"},
		"sh", "-c", "for i in $(seq 300); do echo line $i; done")
	if out := c.must("wait", id); out != "0\n" {
		t.Fatalf("wait: %q", out)
	}
	i := c.inspect(id)
	if i.HostConfig.LogConfig.Type != "json-file" || i.LogPath == "" {
		t.Fatalf("inspect LogConfig %+v LogPath %q", i.HostConfig.LogConfig, i.LogPath)
	}
	for _, p := range []string{i.LogPath, i.LogPath + ".1", i.LogPath + ".2"} {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Errorf("log file: %v", err)
			continue
		}
		if len(b) > 1024 {
			t.Errorf("%s: %d bytes, over max-size 1k", p, len(b))
		}
		for _, l := range outLines(string(b)) {
			var rec struct{ Log, Stream, Time string }
			if err := json.Unmarshal([]byte(l), &rec); err != nil || rec.Stream != "stdout" || !strings.HasPrefix(rec.Log, "line ") {
				t.Errorf("%s: record %q: %v", p, l, err)
				break
			}
		}
	}
	if _, err := os.Stat(i.LogPath + ".3"); !os.IsNotExist(err) {
		t.Errorf("max-file=3 kept %s.3 (%v)", i.LogPath, err)
	}
	if out := c.must("logs", "--tail", "2", id); out != "line 299\nline 300\n" {
		t.Errorf("logs --tail 2 of a rotated log: %q", out)
	}
	// All the files together hold a run of the last lines, in order.
	lines := outLines(c.must("logs", id))
	if len(lines) < 10 || lines[len(lines)-1] != "line 300" {
		t.Fatalf("logs: %d lines, last %q", len(lines), lines[len(lines)-1:])
	}
	first, _ := strconv.Atoi(strings.TrimPrefix(lines[0], "line "))
	for k, l := range lines {
		if l != fmt.Sprintf("line %d", first+k) {
			t.Errorf("logs line %d: %q, want line %d", k, l, first+k)
			break
		}
	}
}

func caseRunStdin(c *ctrCase) {
	t := c.t
	out, errs, code := c.berthIn("hi\n", "run", "-i", "--rm", c.image, "cat")
	if code != 0 || out != "hi\n" {
		t.Errorf("echo hi | run -i cat: exit %d %q %q", code, out, errs)
	}
	// Without -i the container's stdin is empty.
	out, _, _ = c.berthIn("hi\n", "run", "--rm", c.image, "cat")
	if out != "" {
		t.Errorf("run without -i read stdin: %q", out)
	}
	// Much more than a packet, both ways.
	big := strings.Repeat("0123456789abcdef", 64<<10/16) + "\n"
	out, _, code = c.berthIn(big, "run", "-i", "--rm", c.image, "wc", "-c")
	if code != 0 || strings.TrimSpace(out) != strconv.Itoa(len(big)) {
		t.Errorf("64 KiB through run -i wc -c: %q", out)
	}
}

func caseRunTTY(c *ctrCase) {
	t := c.t
	testenv.RequiresBinary(t, "script")
	// script gives berth a terminal for stdin and stdout.
	cmdline := shellQuote(append(append([]string{c.b.bin}, c.b.flags...), c.args([]string{"run", "-t", "--rm", c.image, "sh", "-c", "tty; test -t 0 && echo stdin-tty; stty size"})...))
	cmd := exec.Command("script", "-qec", cmdline, "/dev/null")
	cmd.Stdin = strings.NewReader("")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("script -c berth run -t: %v\n%s", err, out)
	}
	s := strings.ReplaceAll(string(out), "\r", "")
	if !strings.Contains(s, "/dev/pts/0") || !strings.Contains(s, "stdin-tty") {
		t.Errorf("run -t: %q, want a terminal at /dev/pts/0", s)
	}
	// Without a terminal of its own, run -t still gives the container one.
	out2, _, code := c.fg([]string{"--rm", "-t"}, "sh", "-c", "test -t 1 && echo tty")
	if code != 0 || !strings.Contains(out2, "tty") {
		t.Errorf("run -t from a pipe: exit %d %q", code, out2)
	}
}

// shellQuote joins args for sh -c.
func shellQuote(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(q, " ")
}

func caseRunNetwork(c *ctrCase) {
	t := c.t
	// (Bridge networking, the default, is test/integration's network
	// suite's.)
	out := c.must("run", "--rm", "--network", "none", c.image, "sh", "-c", "ls /sys/class/net; cat /sys/class/net/lo/operstate; ip -o link show lo")
	lines := outLines(out)
	if len(lines) < 3 || lines[0] != "lo" || !strings.Contains(lines[2], "UP") {
		t.Errorf("--network none: %q, want only lo, up", out)
	}
	// The host's interfaces come and go (other tests make veths): the
	// namespace itself must be the host's.
	out = c.must("run", "--rm", "--network", "host", c.image, "ls", "/sys/class/net")
	if got := outLines(out); !slices.Contains(got, "lo") || len(got) < 2 {
		t.Errorf("--network host: %q, want the host's interfaces", got)
	}
	self, _ := os.Readlink("/proc/self/ns/net")
	if out := c.must("run", "--rm", "--network", "host", c.image, "readlink", "/proc/self/ns/net"); strings.TrimSpace(out) != self {
		t.Errorf("--network host: netns %q, want %s", out, self)
	}
	name := c.name("netowner")
	id := c.detach([]string{"--name", name, "--network", "none"}, "/probe", "sleep", "100")
	want := c.execOut(id, "readlink", "/proc/1/ns/net")
	if got := c.must("run", "--rm", "--network", "container:"+name, c.image, "readlink", "/proc/self/ns/net"); got != want || got == self+"\n" {
		t.Errorf("--network container:%s: %q, want %q", name, got, want)
	}
	if i := c.inspect(id); i.HostConfig.NetworkMode != "none" {
		t.Errorf("inspect NetworkMode %q", i.HostConfig.NetworkMode)
	}
	_, errs := c.expect(125, "run", "--rm", "--network", "container:nosuch-"+c.tag, c.image, "true")
	if !strings.Contains(errs, "nosuch") {
		t.Errorf("--network container:nosuch: %q", errs)
	}
}

func caseRunRestartOnFailure(c *ctrCase) {
	t := c.t
	id := c.detach([]string{"--restart", "on-failure:2"}, "/probe", "exit", "1")
	c.waitStatus(id, "exited")
	i := c.inspect(id)
	if i.RestartCount != 2 || i.State.RestartCount != 2 || i.State.ExitCode != 1 {
		t.Errorf("on-failure:2: RestartCount %d/%d ExitCode %d, want 2 and 1", i.RestartCount, i.State.RestartCount, i.State.ExitCode)
	}
	if i.HostConfig.RestartPolicy.Name != "on-failure" || i.HostConfig.RestartPolicy.MaximumRetryCount != 2 {
		t.Errorf("inspect RestartPolicy %+v", i.HostConfig.RestartPolicy)
	}
	if out := c.must("wait", id); out != "1\n" {
		t.Errorf("wait: %q", out)
	}
	// A success is not restarted.
	id = c.detach([]string{"--restart", "on-failure"}, "true")
	c.waitStatus(id, "exited")
	if i := c.inspect(id); i.RestartCount != 0 {
		t.Errorf("on-failure after exit 0: RestartCount %d", i.RestartCount)
	}
}

func caseRunRestartAlwaysStop(c *ctrCase) {
	t := c.t
	id := c.detach([]string{"--restart", "always"}, "sh", "-c", "sleep 0.2; exit 3")
	c.waitFor("a restart", func() bool { return c.inspect(id).RestartCount >= 1 })
	c.must("stop", "-t", "1", id)
	if st := c.status(id); st != "exited" {
		t.Errorf("after stop: %s", st)
	}
	n := c.inspect(id).RestartCount
	time.Sleep(700 * time.Millisecond) // more than the restart delay
	if i := c.inspect(id); i.State.Status != "exited" || i.RestartCount != n {
		t.Errorf("--restart always after stop: %s, restarts %d → %d; want it to stay stopped", i.State.Status, n, i.RestartCount)
	}
	// kill does not stop the policy (docker): it runs again.
	id = c.detach([]string{"--restart", "always"}, "/probe", "sleep", "100")
	c.must("kill", id)
	c.waitFor("the restart after kill", func() bool {
		i := c.inspect(id)
		return i.RestartCount >= 1 && i.State.Running
	})
	_, _ = c.expect(125, "run", "--rm", "--restart", "always", c.image, "true")
}

func caseRunHealth(c *ctrCase) {
	t := c.t
	good := c.detach([]string{"--health-cmd", "test -e /tmp", "--health-interval", "200ms"}, "/probe", "sleep", "100")
	bad := c.detach([]string{"--health-cmd", "exit 1", "--health-interval", "200ms", "--health-retries", "2"}, "/probe", "sleep", "100")
	health := func(id string) string {
		if h := c.inspect(id).State.Health; h != nil {
			return h.Status
		}
		return ""
	}
	c.waitFor("healthy", func() bool { return health(good) == "healthy" })
	c.waitFor("unhealthy", func() bool { return health(bad) == "unhealthy" })
	if out := c.must("ps", "--filter", "id="+good, "--format", "{{.Status}}"); !strings.Contains(out, "(healthy)") {
		t.Errorf("ps status %q", out)
	}
	if h := c.inspect(bad).State.Health; h.FailingStreak < 2 {
		t.Errorf("unhealthy FailingStreak %d", h.FailingStreak)
	}
}

func caseRunSigProxy(c *ctrCase) {
	t := c.t
	p := c.start(nil, "run", "--rm", c.image, "/probe", "signals")
	c.waitFor("ready", func() bool { return strings.Contains(p.out.String(), "ready") || p.exited() })
	p.cmd.Process.Signal(syscall.SIGUSR1)
	c.waitFor("SIGUSR1 to reach the container", func() bool { return strings.Contains(p.out.String(), "SIGUSR1") || p.exited() })
	p.cmd.Process.Signal(syscall.SIGTERM)
	if code := p.wait(t); code != 0 || !strings.Contains(p.out.String(), "SIGTERM") {
		t.Errorf("run /probe signals with SIGUSR1, SIGTERM to berth: exit %d, output %q %q", code, p.out, p.errb)
	}
	// --sig-proxy=false: berth's SIGUSR1 stays with berth.
	p = c.start(nil, "run", "--rm", "--sig-proxy=false", "--name", c.name("noproxy"), c.image, "/probe", "signals")
	c.waitFor("ready", func() bool { return strings.Contains(p.out.String(), "ready") || p.exited() })
	// --sig-proxy=false: SIGINT ends berth (130, as a shell reports a
	// process killed by it) and not the container.
	p.cmd.Process.Signal(syscall.SIGINT)
	if code := p.wait(t); code != 130 {
		t.Errorf("SIGINT to run --sig-proxy=false: exit %d, want 130", code)
	}
	if strings.Contains(p.out.String(), "SIGINT") {
		t.Errorf("--sig-proxy=false forwarded SIGINT: %q", p.out)
	}
	if st := c.status(c.name("noproxy")); st != "running" {
		t.Errorf("the container after SIGINT to berth run --sig-proxy=false: %s, want running", st)
	}
	c.must("rm", "-f", c.name("noproxy"))
}

func caseCreateStart(c *ctrCase) {
	t := c.t
	id := c.create([]string{"--name", c.name("cs")}, "/probe", "sleep", "100")
	i := c.inspect(id)
	if i.State.Status != "created" || i.State.Running || i.State.Pid != 0 {
		t.Errorf("created: %+v", i.State)
	}
	if out := c.must("ps", "-a", "--filter", "id="+id, "--format", "{{.Status}} {{.State}}"); out != "Created created\n" {
		t.Errorf("ps of a created container: %q", out)
	}
	if out := c.must("ps", "-q", "--filter", "label="+c.label); out != "" {
		t.Errorf("ps without -a lists a created container: %q", out)
	}
	if out := c.must("start", c.name("cs")); out != c.name("cs")+"\n" {
		t.Errorf("start prints %q", out)
	}
	if i := c.inspect(id); i.State.Status != "running" || i.State.Pid <= 0 || i.State.StartedAt.IsZero() {
		t.Errorf("started: %+v", i.State)
	}
	c.must("start", id) // already running: nothing to do
	// start -a: the output and the exit code.
	id = c.create(nil, "sh", "-c", "echo out; echo err >&2; exit 7")
	out, errs, code := c.berth("start", "-a", id)
	if code != 7 || out != "out\n" || errs != "err\n" {
		t.Errorf("start -a: exit %d stdout %q stderr %q", code, out, errs)
	}
	// And again: an exited container runs again.
	out, _, code = c.berth("start", "-a", id)
	if code != 7 || out != "out\n" {
		t.Errorf("second start -a: exit %d stdout %q", code, out)
	}
	// Back to back: each start comes while the last run's monitor may
	// still be finishing (its exit command); each run is whole.
	for i := range 8 {
		if out, errs, code := c.berth("start", "-a", id); code != 7 || out != "out\n" {
			t.Errorf("start -a #%d: exit %d %q %q", i+3, code, out, errs)
		}
	}
	if i := c.inspect(id); i.State.Status != "exited" || i.State.ExitCode != 7 || i.State.Error != "" {
		t.Errorf("after starts back to back: %+v", i.State)
	}
	// start -a -i: stdin too.
	id = c.create([]string{"-i"}, "sh", "-c", "read l; echo got $l")
	if out, errs, code := c.berthIn("line\n", "start", "-a", "-i", id); code != 0 || out != "got line\n" {
		t.Errorf("start -a -i: exit %d %q %q", code, out, errs)
	}
	_, errs = c.expect(125, "start", "nosuch-"+c.tag)
	if !strings.Contains(errs, "nosuch-"+c.tag) {
		t.Errorf("start nosuch: %q", errs)
	}
}

func caseStopKillRestart(c *ctrCase) {
	t := c.t
	id := c.detach(nil, "/probe", "signals")
	c.waitFor("ready", func() bool { return strings.Contains(c.must("logs", id), "ready") })
	c.must("kill", "-s", "USR1", id)
	c.must("kill", "--signal", "SIGHUP", id)
	c.waitFor("the signals", func() bool {
		l := c.must("logs", id)
		return strings.Contains(l, "SIGUSR1") && strings.Contains(l, "SIGHUP")
	})
	started := c.inspect(id).State.StartedAt
	if out := c.must("restart", "-t", "5", id); out != id+"\n" {
		t.Errorf("restart prints %q", out)
	}
	i := c.inspect(id)
	if !i.State.Running || !i.State.StartedAt.After(started) {
		t.Errorf("after restart: %+v (started before %s)", i.State, started)
	}
	readies := func(n int) {
		c.waitFor(fmt.Sprintf("run %d of the probe to be ready", n), func() bool {
			return strings.Count(c.must("logs", id), "ready") >= n
		})
	}
	readies(2)
	// The probe exits 0 on SIGTERM once it is ready (before, the Go
	// runtime's default applies): wait for that before each stop.
	for n := 3; n <= 5; n++ {
		c.must("restart", "-t", "5", id)
		readies(n)
	}
	c.must("stop", "-t", "5", id)
	if i := c.inspect(id); i.State.Status != "exited" || i.State.ExitCode != 0 || i.State.Error != "" {
		t.Errorf("stop after restarts (SIGTERM, the probe exits 0): %+v", i.State)
	}
	c.must("stop", id) // stopped already: fine
	c.must("start", id)
	c.must("kill", id)
	c.waitStatus(id, "exited")
	if i := c.inspect(id); i.State.ExitCode != 137 {
		t.Errorf("kill: exit %d, want 137", i.State.ExitCode)
	}
	_, errs := c.expect(125, "kill", id)
	if !strings.Contains(errs, "not running") {
		t.Errorf("kill of an exited container: %q", errs)
	}
	_, _ = c.expect(125, "kill", "-s", "NOSIG", id)
}

func casePause(c *ctrCase) {
	t := c.t
	id := c.detach(nil, "/probe", "sleep", "100")
	c.must("pause", id)
	i := c.inspect(id)
	if i.State.Status != "paused" || !i.State.Paused || !i.State.Running {
		t.Errorf("paused: %+v", i.State)
	}
	if got := ctrFileText(filepath.Join(cgroupDir("freezer", id), "freezer.state")); got != "FROZEN" {
		t.Errorf("freezer.state %q", got)
	}
	if out := c.must("ps", "--filter", "id="+id, "--format", "{{.Status}}"); !strings.Contains(out, "(Paused)") {
		t.Errorf("ps of a paused container: %q", out)
	}
	if out := c.must("ps", "-q", "--filter", "status=paused", "--filter", "label="+c.label); strings.TrimSpace(out) != id[:12] {
		t.Errorf("ps --filter status=paused: %q", out)
	}
	_, errs := c.expect(125, "exec", id, "true")
	if !strings.Contains(errs, "paused") {
		t.Errorf("exec in a paused container: %q, want it to say paused", errs)
	}
	_, _ = c.expect(125, "pause", id)
	// kill of a frozen process would do nothing: refused, as docker.
	_, errs = c.expect(125, "kill", id)
	if !strings.Contains(errs, "paused") {
		t.Errorf("kill of a paused container: %q", errs)
	}
	c.must("unpause", id)
	if st := c.status(id); st != "running" {
		t.Errorf("unpaused: %s", st)
	}
	if out := c.execOut(id, "echo", "thawed"); out != "thawed\n" {
		t.Errorf("exec after unpause: %q", out)
	}
	_, _ = c.expect(125, "unpause", id)
	// A paused container stops.
	c.must("pause", id)
	c.must("stop", "-t", "1", id)
	if st := c.status(id); st != "exited" {
		t.Errorf("stop of a paused container: %s", st)
	}
	if got := ctrFileText(filepath.Join(cgroupDir("freezer", id), "freezer.state")); got == "FROZEN" {
		t.Errorf("freezer still FROZEN after stop")
	}
}

func caseWait(c *ctrCase) {
	t := c.t
	id := c.detach(nil, "/probe", "exit", "5")
	if out := c.must("wait", id); out != "5\n" {
		t.Errorf("wait: %q", out)
	}
	// wait on a running one returns when it exits; two at once.
	a := c.detach(nil, "sh", "-c", "sleep 0.5; exit 2")
	b := c.detach(nil, "true")
	if out := c.must("wait", a, b); out != "2\n0\n" {
		t.Errorf("wait a b: %q", out)
	}
	// wait on a created container waits for it to run and exit.
	cr := c.create(nil, "/probe", "exit", "9")
	p := c.start(nil, "wait", cr)
	time.Sleep(200 * time.Millisecond)
	if p.exited() {
		t.Errorf("wait on a created container returned at once: %q %q", p.out, p.errb)
	}
	c.must("start", cr)
	if code := p.wait(t); code != 0 || p.out.String() != "9\n" {
		t.Errorf("wait on a created container then started: exit %d %q %q", code, p.out, p.errb)
	}
	// A --rm container is gone once it exits: wait still gets its code.
	rm := c.detach([]string{"--rm"}, "sh", "-c", "sleep 0.3; exit 4")
	if out, errs, code := c.berth("wait", rm); code != 0 || out != "4\n" {
		t.Errorf("wait on a -d --rm container: exit %d %q %q, want 4", code, out, errs)
	}
	// A restarting container: wait returns after the last restart.
	rs := c.detach([]string{"--restart", "on-failure:2"}, "sh", "-c", "sleep 0.1; exit 3")
	if out := c.must("wait", rs); out != "3\n" || c.inspect(rs).RestartCount != 2 {
		t.Errorf("wait on --restart on-failure:2: %q after %d restarts", out, c.inspect(rs).RestartCount)
	}
	// rm -f meanwhile ends a wait with the kill's code.
	k := c.detach(nil, "/probe", "sleep", "100")
	p = c.start(nil, "wait", k)
	time.Sleep(200 * time.Millisecond)
	c.must("rm", "-f", k)
	if code := p.wait(t); code != 0 || p.out.String() != "137\n" {
		t.Errorf("wait on a container removed with rm -f: exit %d %q %q", code, p.out, p.errb)
	}
	_, _ = c.expect(125, "wait", "nosuch-"+c.tag)
}

func caseRm(c *ctrCase) {
	t := c.t
	id := c.detach([]string{"-v", "/anon", "-v", c.name("named") + ":/named"}, "/probe", "sleep", "100")
	anon := ""
	for _, m := range c.inspect(id).Mounts {
		if m.Destination == "/anon" {
			anon = m.Name
		}
	}
	if !fullID.MatchString(anon) {
		t.Fatalf("anonymous volume name %q", anon)
	}
	_, errs := c.expect(125, "rm", id)
	if !strings.Contains(errs, "running") {
		t.Errorf("rm of a running container: %q", errs)
	}
	if st := c.status(id); st != "running" {
		t.Errorf("after a refused rm: %s", st)
	}
	if out := c.must("rm", "-f", "-v", id); out != id+"\n" {
		t.Errorf("rm -f prints %q", out)
	}
	checkCtrGone(t, c.b, id)
	if _, _, code := c.berth("volume", "inspect", anon); code == 0 {
		t.Errorf("rm -v left the anonymous volume %s", anon)
	}
	c.must("volume", "inspect", c.name("named")) // rm -v keeps named volumes
	c.must("volume", "rm", c.name("named"))
	// Without -v the anonymous volume stays.
	id = c.create([]string{"-v", "/anon"}, "true")
	anon = c.inspect(id).Mounts[0].Name
	c.must("rm", id)
	c.must("volume", "inspect", anon)
	c.must("volume", "rm", anon)
	// Several at once; an unknown one fails the command but not the others.
	a := c.create(nil, "true")
	b := c.create(nil, "true")
	out, _ := c.expect(125, "rm", a, "nosuch-"+c.tag, b)
	if out != a+"\n"+b+"\n" {
		t.Errorf("rm a nosuch b: %q", out)
	}
	checkCtrGone(t, c.b, a)
	checkCtrGone(t, c.b, b)
}

func casePs(c *ctrCase) {
	t := c.t
	lbl := []string{"--filter", "label=" + c.label}
	run := c.detach([]string{"--name", c.name("ps-run"), "-l", "role=run"}, "/probe", "sleep", "100")
	ex := c.detach([]string{"--name", c.name("ps-exit")}, "/probe", "exit", "4")
	c.must("wait", ex)
	cr := c.create([]string{"--name", c.name("ps-created")}, "true")
	short := func(ids ...string) []string {
		var out []string
		for _, id := range ids {
			out = append(out, id[:12])
		}
		return out
	}
	if got := outLines(c.must(append([]string{"ps", "-q"}, lbl...)...)); !slices.Equal(got, short(run)) {
		t.Errorf("ps -q: %q, want %q", got, short(run))
	}
	if got := outLines(c.must(append([]string{"ps", "-a", "-q"}, lbl...)...)); !slices.Equal(got, short(cr, ex, run)) {
		t.Errorf("ps -a -q (newest first): %q, want %q", got, short(cr, ex, run))
	}
	if got := outLines(c.must(append([]string{"ps", "-q", "--no-trunc", "-n", "2"}, lbl...)...)); !slices.Equal(got, []string{cr, ex}) {
		t.Errorf("ps -n 2 --no-trunc: %q", got)
	}
	if got := outLines(c.must(append([]string{"ps", "-q", "-l"}, lbl...)...)); !slices.Equal(got, short(cr)) {
		t.Errorf("ps -l: %q", got)
	}
	for _, f := range []struct {
		filter string
		want   []string
	}{
		{"status=exited", short(ex)},
		{"status=created", short(cr)},
		{"status=running", short(run)},
		{"name=" + c.name("ps-exit"), short(ex)},
		{"name=" + c.tag + "-ps-", short(cr, ex, run)},
		{"label=role=run", short(run)},
		{"label=role", short(run)},
		{"exited=4", short(ex)},
		{"exited=0", nil},
		{"ancestor=" + c.image, short(cr, ex, run)},
		{"ancestor=nosuch", nil},
		{"id=" + ex[:5], short(ex)},
	} {
		got := outLines(c.must(append([]string{"ps", "-a", "-q", "--filter", f.filter}, lbl...)...))
		if !slices.Equal(got, f.want) {
			t.Errorf("ps -a --filter %s: %q, want %q", f.filter, got, f.want)
		}
	}
	_, _ = c.expect(125, "ps", "--filter", "bogus=1")
	// The table: docker's header and one row per container.
	table := outLines(c.must(append([]string{"ps", "-a"}, lbl...)...))
	if len(table) != 4 || !strings.HasPrefix(table[0], "CONTAINER ID") || !strings.Contains(table[0], "NAMES") {
		t.Errorf("ps -a table: %q", table)
	} else if !strings.Contains(table[2], "Exited (4)") || !strings.Contains(table[3], "Up ") || !strings.Contains(table[1], "Created") {
		t.Errorf("ps -a rows: %q", table[1:])
	}
	// JSON: one object per line.
	var rows []map[string]any
	for _, l := range outLines(c.must(append([]string{"ps", "-a", "--format", "json", "--no-trunc"}, lbl...)...)) {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("ps --format json: %q: %v", l, err)
		}
		rows = append(rows, m)
	}
	if len(rows) != 3 || rows[2]["ID"] != run || rows[2]["Names"] != c.name("ps-run") || rows[2]["State"] != "running" || rows[1]["State"] != "exited" {
		t.Errorf("ps --format json: %v", rows)
	}
	out := c.must(append([]string{"ps", "-a", "--format", "{{.Names}}|{{.State}}|{{.Image}}"}, lbl...)...)
	want := fmt.Sprintf("%s|created|%s\n%s|exited|%s\n%s|running|%s\n", c.name("ps-created"), c.image, c.name("ps-exit"), c.image, c.name("ps-run"), c.image)
	if out != want {
		t.Errorf("ps --format template:\n%s\nwant\n%s", out, want)
	}
	if out := c.must(append([]string{"ps", "-a", "--format", "table {{.Names}}"}, lbl...)...); !strings.HasPrefix(out, "NAMES\n") {
		t.Errorf("ps --format 'table {{.Names}}': %q", out)
	}
	_, _ = c.expect(125, "ps", "--format", "{{.Nope")
}

func caseLogs(c *ctrCase) {
	t := c.t
	id := c.detach(nil, "sh", "-c", "for i in 1 2 3 4 5; do echo out $i; echo err $i >&2; done")
	c.must("wait", id)
	out, errs, code := c.berth("logs", id)
	if code != 0 || out != "out 1\nout 2\nout 3\nout 4\nout 5\n" || errs != "err 1\nerr 2\nerr 3\nerr 4\nerr 5\n" {
		t.Errorf("logs: exit %d stdout %q stderr %q", code, out, errs)
	}
	// --tail counts the records of both streams (their order in the log is
	// the order the monitor read the two pipes in).
	out, errs, _ = c.berth("logs", "--tail", "2", id)
	if n := len(outLines(out)) + len(outLines(errs)); n != 2 {
		t.Errorf("logs --tail 2: stdout %q stderr %q, want 2 lines", out, errs)
	}
	if out, _, _ := c.berth("logs", "--tail", "20", id); len(outLines(out)) != 5 {
		t.Errorf("logs --tail 20 of 10 lines: stdout %q", out)
	}
	if out, _, _ := c.berth("logs", "--tail", "0", id); out != "" {
		t.Errorf("logs --tail 0: %q", out)
	}
	out, _, _ = c.berth("logs", "-t", id)
	ts := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z out 1$`)
	if l := outLines(out); len(l) != 5 || !ts.MatchString(l[0]) {
		t.Errorf("logs -t: %q", out)
	}
	if out, _, _ := c.berth("logs", "--since", time.Now().Add(time.Hour).Format(time.RFC3339), id); out != "" {
		t.Errorf("logs --since an hour ahead: %q", out)
	}
	if out, _, _ := c.berth("logs", "--since", "1h", id); len(outLines(out)) != 5 {
		t.Errorf("logs --since 1h: %q", out)
	}
	if out, _, _ := c.berth("logs", "--until", "1h", id); out != "" {
		t.Errorf("logs --until 1h (before it ran): %q", out)
	}
	_, _ = c.expect(125, "logs", "--since", "yesterday-ish", id)
	_, _ = c.expect(125, "logs", "--tail", "three", id)
	// A negative --tail means every line, as docker's.
	if out, _, _ := c.berth("logs", "--tail", "-3", id); len(outLines(out)) != 5 {
		t.Errorf("logs --tail -3: %q", out)
	}
	// -f follows until the container exits.
	id = c.detach(nil, "sh", "-c", "echo first; read x </dev/null; sleep 1; echo second; sleep 0.5; echo third")
	p := c.start(nil, "logs", "-f", id)
	c.waitFor("logs -f to show the first line", func() bool { return strings.Contains(p.out.String(), "first") })
	if code := p.wait(t); code != 0 || p.out.String() != "first\nsecond\nthird\n" {
		t.Errorf("logs -f: exit %d %q %q", code, p.out, p.errb)
	}
	// -f --tail 1 on a running container: the last line so far, then on.
	id = c.detach(nil, "sh", "-c", "echo a; echo b; read x </dev/null; sleep 1; echo c")
	c.waitFor("b in the log", func() bool { return strings.Contains(c.must("logs", id), "b") })
	p = c.start(nil, "logs", "-f", "--tail", "1", id)
	if code := p.wait(t); code != 0 || p.out.String() != "b\nc\n" {
		t.Errorf("logs -f --tail 1: exit %d %q", code, p.out)
	}
	// A container with --log-driver none has no logs to show.
	id = c.detach([]string{"--log-driver", "none"}, "echo", "nothing")
	c.must("wait", id)
	if out, _, _ := c.berth("logs", id); out != "" {
		t.Errorf("logs of --log-driver none: %q", out)
	}
}

func caseExec(c *ctrCase) {
	t := c.t
	id := c.detach([]string{"-e", "BASE=1", "-w", "/srv"}, "/probe", "sleep", "100")
	if out := c.execOut(id, "sh", "-c", "echo $BASE $EXTRA; pwd; id -u"); out != "1\n/srv\n0\n" {
		t.Errorf("exec with the container's env and cwd: %q", out)
	}
	if out := c.must("exec", "-e", "EXTRA=2", "-w", "/tmp", "-u", "65534:65534", id, "sh", "-c", "echo $BASE $EXTRA; pwd; id -u; id -g"); out != "1 2\n/tmp\n65534\n65534\n" {
		t.Errorf("exec -e -w -u: %q", out)
	}
	if out := c.must("exec", "-u", "nobody", id, "id", "-un"); out != "nobody\n" {
		t.Errorf("exec -u nobody: %q", out)
	}
	for _, tc := range []struct {
		cmd  []string
		code int
	}{
		{[]string{"sh", "-c", "exit 3"}, 3},
		{[]string{"nosuchcommand"}, 127},
		{[]string{"/etc/passwd"}, 126},
	} {
		if _, errs, code := c.berth(append([]string{"exec", id}, tc.cmd...)...); code != tc.code {
			t.Errorf("exec %q: exit %d, want %d (%s)", tc.cmd, code, tc.code, errs)
		}
	}
	out, _, code := c.berthIn("from stdin\n", "exec", "-i", id, "cat")
	if code != 0 || out != "from stdin\n" {
		t.Errorf("exec -i cat: exit %d %q", code, out)
	}
	if out, _, _ := c.berthIn("from stdin\n", "exec", id, "cat"); out != "" {
		t.Errorf("exec without -i read stdin: %q", out)
	}
	if out := c.must("exec", "-d", id, "sh", "-c", "sleep 0.3; touch /tmp/detached"); out != "" {
		t.Errorf("exec -d printed %q", out)
	}
	c.waitFor("the detached exec", func() bool {
		_, _, code := c.berth("exec", id, "test", "-e", "/tmp/detached")
		return code == 0
	})
	// The exec's process is in the container's cgroup and pid namespace.
	if out := c.execOut(id, "sh", "-c", "cat /proc/1/cmdline | tr '\\0' ' '"); !strings.HasPrefix(out, "/probe sleep") {
		t.Errorf("exec sees pid 1 as %q", out)
	}
	_, _ = c.expect(125, "exec", "nosuch-"+c.tag, "true")
	c.must("stop", "-t", "0", id)
	_, errs := c.expect(125, "exec", id, "true")
	if !strings.Contains(errs, "not running") && !strings.Contains(errs, "exited") {
		t.Errorf("exec in a stopped container: %q", errs)
	}
}

func caseAttach(c *ctrCase) {
	t := c.t
	id := c.detach([]string{"-i"}, "sh", "-c", "echo hello; while read l; do echo got $l; done; echo bye; exit 6")
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	p := c.start(r, "attach", id)
	time.Sleep(300 * time.Millisecond) // attach shows live output only: let it connect
	fmt.Fprintln(w, "one")
	c.waitFor("the container's answer", func() bool { return strings.Contains(p.out.String(), "got one") || p.exited() })
	fmt.Fprintln(w, "two")
	w.Close() // EOF: the loop ends
	if code := p.wait(t); code != 6 || p.out.String() != "got one\ngot two\nbye\n" {
		t.Errorf("attach: exit %d, output %q %q", code, p.out, p.errb)
	}
	if logs := c.must("logs", id); logs != "hello\ngot one\ngot two\nbye\n" {
		t.Errorf("logs after attach: %q", logs)
	}
	_, errs := c.expect(125, "attach", id)
	if !strings.Contains(errs, "stopped") && !strings.Contains(errs, "not running") {
		t.Errorf("attach to an exited container: %q", errs)
	}
	// Output only: attach --no-stdin to a container that prints later.
	id = c.detach(nil, "sh", "-c", "sleep 0.7; echo late; exit 2")
	p = c.start(nil, "attach", "--no-stdin", id)
	if code := p.wait(t); code != 2 || p.out.String() != "late\n" {
		t.Errorf("attach --no-stdin: exit %d %q %q", code, p.out, p.errb)
	}
}

func caseInspect(c *ctrCase) {
	t := c.t
	vol := c.name("ivol")
	id := c.detach([]string{"--name", c.name("insp"), "--restart", "on-failure:3", "-v", vol + ":/v", "--tmpfs", "/t",
		"-e", "X=y", "-u", "7", "-w", "/v"}, "/probe", "sleep", "100")
	i := c.inspect(id)
	if i.ID != id || i.Name != "/"+c.name("insp") || i.Path != "/probe" || !slices.Equal(i.Args, []string{"sleep", "100"}) {
		t.Errorf("inspect: Id %s Name %s Path %s Args %q", i.ID, i.Name, i.Path, i.Args)
	}
	if !i.State.Running || i.State.Status != "running" || i.State.Pid <= 0 || i.State.StartedAt.IsZero() || i.State.MonitorPid <= 0 {
		t.Errorf("inspect State %+v", i.State)
	}
	if _, err := os.Stat(fmt.Sprintf("/proc/%d", i.State.Pid)); err != nil {
		t.Errorf("State.Pid %d: %v", i.State.Pid, err)
	}
	if !strings.HasPrefix(i.Image, "sha256:") || i.Config.Image != c.image {
		t.Errorf("inspect Image %s Config.Image %s", i.Image, i.Config.Image)
	}
	if i.HostConfig.RestartPolicy.Name != "on-failure" || i.HostConfig.RestartPolicy.MaximumRetryCount != 3 {
		t.Errorf("inspect RestartPolicy %+v", i.HostConfig.RestartPolicy)
	}
	wantRT := c.runtime
	if wantRT == "" {
		wantRT = "berth-runtime"
	}
	if i.HostConfig.Runtime != wantRT {
		t.Errorf("inspect HostConfig.Runtime %q, want %q", i.HostConfig.Runtime, wantRT)
	}
	if i.Config.User != "7" || i.Config.WorkingDir != "/v" || !slices.Contains(i.Config.Env, "X=y") || i.Config.Labels[strings.Split(c.label, "=")[0]] == "" {
		t.Errorf("inspect Config %+v", i.Config)
	}
	kinds := map[string]string{}
	for _, m := range i.Mounts {
		kinds[m.Destination] = m.Type
		if m.Destination == "/v" && (m.Name != vol || !m.RW || m.Source == "") {
			t.Errorf("volume mount %+v", m)
		}
	}
	if kinds["/v"] != "volume" || kinds["/t"] != "tmpfs" {
		t.Errorf("inspect Mounts %+v", i.Mounts)
	}
	// -f with a template, docker's way.
	if out := c.must("inspect", "-f", "{{.State.Status}} {{.Name}}", id); out != "running /"+c.name("insp")+"\n" {
		t.Errorf("inspect -f: %q", out)
	}
	c.must("rm", "-f", id)
	c.must("volume", "rm", vol)
	id2 := c.create([]string{"--name", c.name("insp2")}, "true")
	_, errs := c.expect(125, "inspect", "nosuch-"+c.tag)
	if !strings.Contains(errs, "no such object: nosuch-"+c.tag) {
		t.Errorf("inspect of an unknown name: %q", errs)
	}
	// Several at once: containers and images, in order.
	out := c.must("inspect", "-f", "{{.Id}}", c.name("insp2"), c.image)
	if l := outLines(out); len(l) != 2 || l[0] != id2 || !strings.HasPrefix(l[1], "sha256:") {
		t.Errorf("inspect a container and an image: %q", out)
	}
}

func caseRename(c *ctrCase) {
	t := c.t
	old, nw := c.name("old"), c.name("new")
	id := c.detach([]string{"--name", old}, "/probe", "sleep", "100")
	c.must("rename", old, nw)
	if out := c.must("ps", "--filter", "id="+id, "--format", "{{.Names}}"); out != nw+"\n" {
		t.Errorf("ps after rename: %q", out)
	}
	if i := c.inspect(nw); i.ID != id || i.Name != "/"+nw {
		t.Errorf("inspect new name: %s %s", i.ID, i.Name)
	}
	_, _ = c.expect(125, "inspect", old)
	// The old name is free; the new one is taken.
	other := c.detach([]string{"--name", old}, "true")
	_, errs := c.expect(125, "rename", other, nw)
	if !strings.Contains(errs, "already in use") {
		t.Errorf("rename to a taken name: %q", errs)
	}
	_, _ = c.expect(125, "rename", nw, nw)
	_, _ = c.expect(125, "rename", nw, "bad name!")
	// The container still works under its new name.
	if out := c.execOut(nw, "echo", "ok"); out != "ok\n" {
		t.Errorf("exec by the new name: %q", out)
	}
	c.must("stop", "-t", "1", nw)
}

func caseVolume(c *ctrCase) {
	t := c.t
	vol := c.name("vol")
	if out := c.must("volume", "create", "--label", "k=v", vol); out != vol+"\n" {
		t.Errorf("volume create prints %q", out)
	}
	if out := c.must("volume", "ls", "-q", "--filter", "name="+vol); out != vol+"\n" {
		t.Errorf("volume ls -q --filter name=: %q", out)
	}
	var vi []struct {
		Name, Driver, Mountpoint string
		Labels                   map[string]string
	}
	if err := json.Unmarshal([]byte(c.must("volume", "inspect", vol)), &vi); err != nil || len(vi) != 1 {
		t.Fatalf("volume inspect: %v", err)
	}
	if vi[0].Name != vol || vi[0].Driver != "local" || vi[0].Labels["k"] != "v" || !strings.HasPrefix(vi[0].Mountpoint, c.b.root) {
		t.Errorf("volume inspect %+v", vi[0])
	}
	// In use → refused, even by a stopped container.
	id := c.create([]string{"-v", vol + ":/v"}, "true")
	_, errs := c.expect(125, "volume", "rm", vol)
	if !strings.Contains(errs, "in use") {
		t.Errorf("volume rm of a volume in use: %q", errs)
	}
	c.must("rm", id)
	c.must("volume", "rm", vol)
	if _, err := os.Stat(vi[0].Mountpoint); !os.IsNotExist(err) {
		t.Errorf("volume rm left %s (%v)", vi[0].Mountpoint, err)
	}
	_, _ = c.expect(125, "volume", "rm", vol)
	c.must("volume", "rm", "-f", vol)
	_, _ = c.expect(125, "volume", "create", "bad/name")
	_, _ = c.expect(125, "volume", "inspect", vol)
}

func caseRmiInUse(c *ctrCase) {
	t := c.t
	c.create(nil, "true")
	_, errs := c.expect(125, "rmi", c.image)
	// It names a container using it (any: the suite's cases share the image).
	if !strings.Contains(errs, "is using it") || !strings.Contains(errs, "container") {
		t.Errorf("rmi of an image in use: %q, want it to name a container using it", errs)
	}
	c.must("image", "inspect", c.image)
}

func caseContainerPrune(c *ctrCase) {
	t := c.t
	keep := c.detach(nil, "/probe", "sleep", "100")
	created := c.create(nil, "true")
	gone := c.detach(nil, "true")
	c.must("wait", gone)
	paused := c.detach(nil, "/probe", "sleep", "100")
	c.must("pause", paused)
	// docker prunes every container that does not run: created ones too.
	out := c.must("container", "prune", "-f")
	if !strings.Contains(out, gone) || !strings.Contains(out, created) || strings.Contains(out, keep) || strings.Contains(out, paused) {
		t.Errorf("container prune: %q", out)
	}
	checkCtrGone(t, c.b, gone)
	checkCtrGone(t, c.b, created)
	c.must("inspect", keep)
	c.must("inspect", paused)
}

func caseVolumePrune(c *ctrCase) {
	t := c.t
	used := c.name("used")
	named := c.name("unused")
	c.must("volume", "create", named)
	id := c.create([]string{"-v", used + ":/u", "-v", "/anon-used"}, "true")
	c.must("run", "--rm", "-v", "/anon-free", c.image, "true") // --rm takes its own
	orphan := c.create([]string{"-v", "/anon-orphan"}, "true")
	orphanVol := c.inspect(orphan).Mounts[0].Name
	c.must("rm", orphan) // without -v: the anonymous volume stays, unused
	out := c.must("volume", "prune", "-f")
	if !strings.Contains(out, orphanVol) || strings.Contains(out, named) || strings.Contains(out, used) {
		t.Errorf("volume prune: %q, want only the unused anonymous volume", out)
	}
	out = c.must("volume", "prune", "-f", "-a")
	if !strings.Contains(out, named) || strings.Contains(out, used) {
		t.Errorf("volume prune -a: %q, want the unused named volume too", out)
	}
	c.must("rm", "-v", id)
	c.must("volume", "rm", used)
}
