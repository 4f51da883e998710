package integration

import (
	"archive/tar"
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/store"
	"github.com/berth-project/berth/test/kit"
)

// The container verbs beyond the lifecycle: stats, top, cp, port, update,
// events, system info and system prune, each through the CLI against a
// root of its own with the kit's busybox image, and each with bad input.
// Every test removes its containers (rm -f -v) and then checks that they
// left nothing: no berth-monitor of the test's runroot, no cgroup named
// after one of them, no network namespace file, no container directory (and
// newBerth's own checks: no mount under root or runroot).

const verbImageRepo = "/itest/verbs-busybox:1"

// verbEnv is berth over a root of the test's own with the image pulled.
type verbEnv struct {
	*berthCLI
	t     *testing.T
	image string
	ids   map[string]bool // every container the test made
}

func newVerbEnv(t *testing.T) *verbEnv {
	t.Helper()
	b := newBerth(t)
	ref := kit.Registry(t) + verbImageRepo
	kit.PushImage(t, kit.BusyboxImage(t, ""), ref)
	b.must("pull", "-q", ref)
	v := &verbEnv{berthCLI: b, t: t, image: ref, ids: map[string]bool{}}
	t.Cleanup(v.cleanup) // before newBerth's leak checks
	return v
}

// runD starts a container that sleeps, with extra run flags, and returns
// its ID.
func (v *verbEnv) runD(flags ...string) string {
	v.t.Helper()
	args := append(append([]string{"run", "-d"}, flags...), v.image, "/probe", "sleep", "600")
	id := strings.TrimSpace(v.must(args...))
	v.ids[id] = true
	return id
}

// created makes a container without starting it.
func (v *verbEnv) created(flags ...string) string {
	v.t.Helper()
	args := append(append([]string{"create"}, flags...), v.image, "/probe", "sleep", "600")
	id := strings.TrimSpace(v.must(args...))
	v.ids[id] = true
	return id
}

// fails runs berth, wants exit code 125 and an error naming want.
func (v *verbEnv) fails(want string, args ...string) {
	v.t.Helper()
	out, errs, code := v.run(args...)
	if code != 125 || !strings.Contains(errs, want) {
		v.t.Errorf("berth %s: exit %d, stderr %q; want 125 and %q\n%s", strings.Join(args, " "), code, errs, want, out)
	}
}

func (v *verbEnv) cleanup() {
	t := v.t
	out, _, _ := v.run("ps", "-a", "-q", "--no-trunc")
	for _, id := range outLines(out) {
		v.ids[id] = true
		if _, errs, code := v.run("rm", "-f", "-v", id); code != 0 {
			t.Errorf("cleanup: rm -f %s: %s", id, errs)
		}
	}
	for id := range v.ids {
		waitUntil(t, "the monitor of "+id[:12]+" to go", func() bool { return !verbProcessNaming(filepath.Join(v.runroot, "containers", id)) })
		cgs, _ := filepath.Glob("/sys/fs/cgroup/*/berth/" + id)
		if v2, err := os.Stat("/sys/fs/cgroup/berth/" + id); err == nil && v2.IsDir() {
			cgs = append(cgs, "/sys/fs/cgroup/berth/"+id)
		}
		for _, cg := range cgs {
			t.Errorf("cgroup %s left", cg)
		}
		for _, p := range []string{
			filepath.Join(v.root, "containers", id), filepath.Join(v.runroot, "containers", id),
			filepath.Join(v.runroot, "netns", id),
		} {
			if exists(p) {
				t.Errorf("%s left", p)
			}
		}
	}
	if verbProcessNaming(v.runroot) {
		t.Errorf("a process of %s left", v.runroot)
	}
}

// verbProcessNaming reports whether a process's command line names s.
func verbProcessNaming(s string) bool {
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err == nil && strings.Contains(string(b), s) {
			return true
		}
	}
	return false
}

// verbMounted reports whether anything is mounted at path.
func verbMounted(t *testing.T, path string) bool {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) > 4 && f[4] == path {
			return true
		}
	}
	return false
}

// parseMiB reads docker's binary sizes ("808KiB", "1.5MiB", "64MiB").
func parseMiB(t *testing.T, s string) float64 {
	t.Helper()
	for _, u := range []struct {
		suffix string
		div    float64
	}{{"KiB", 1024}, {"MiB", 1}, {"GiB", 1.0 / 1024}, {"B", 1 << 20}} {
		if n, ok := strings.CutSuffix(s, u.suffix); ok {
			f, err := strconv.ParseFloat(n, 64)
			if err != nil {
				t.Fatalf("size %q: %v", s, err)
			}
			return f / u.div
		}
	}
	t.Fatalf("size %q: no unit", s)
	return 0
}

func TestVerbStats(t *testing.T) {
	v := newVerbEnv(t)
	for _, rt := range []string{"berth-runtime", "runc"} {
		t.Run(rt, func(t *testing.T) {
			if _, err := exec.LookPath(rt); err != nil && rt == "runc" {
				t.Fatalf("runc: %v", err)
			}
			name := "stats-" + rt
			v.runD("--name", name, "--runtime", rt, "--memory", "64m", "--network", "none")
			out := v.must("stats", "--no-stream", "--format", "json", name)
			var row map[string]string
			if err := json.Unmarshal([]byte(out), &row); err != nil {
				t.Fatalf("stats --format json: %v\n%s", err, out)
			}
			if row["Name"] != name || row["Container"] != name || len(row["ID"]) != 12 {
				t.Errorf("stats names %+v", row)
			}
			use, limit, ok := strings.Cut(row["MemUsage"], " / ")
			if !ok {
				t.Fatalf("MemUsage %q", row["MemUsage"])
			}
			if u, l := parseMiB(t, use), parseMiB(t, limit); u <= 0 || u >= 64 || l != 64 {
				t.Errorf("MemUsage %q: want a usage above 0 below the 64MiB limit", row["MemUsage"])
			}
			if p, err := strconv.Atoi(row["PIDs"]); err != nil || p < 1 {
				t.Errorf("PIDs %q: want at least the probe", row["PIDs"])
			}
			if !regexp.MustCompile(`^\d+\.\d\d%$`).MatchString(row["CPUPerc"]) || !regexp.MustCompile(`^\d+\.\d\d%$`).MatchString(row["MemPerc"]) {
				t.Errorf("CPUPerc %q, MemPerc %q", row["CPUPerc"], row["MemPerc"])
			}
			if row["NetIO"] != "0B / 0B" {
				t.Errorf("NetIO %q: the container has loopback only", row["NetIO"])
			}
		})
	}
	// The table of every running container, and -a with a stopped one.
	stopped := v.created("--name", "stats-created")
	out := v.must("stats", "--no-stream")
	lines := outLines(out)
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "CONTAINER ID   NAME") || !strings.Contains(lines[0], "MEM USAGE / LIMIT") {
		t.Errorf("stats --no-stream:\n%s", out)
	}
	out = v.must("stats", "--no-stream", "-a", "--format", "{{.Name}} {{.MemUsage}} {{.PIDs}}")
	if !strings.Contains(out, "stats-created 0B / 0B 0\n") || len(outLines(out)) != 3 {
		t.Errorf("stats -a:\n%s", out)
	}
	v.must("rm", stopped)

	v.fails("no such container", "stats", "--no-stream", "nosuch")
	v.fails("--format", "stats", "--no-stream", "--format", "{{.Nope}}", "stats-runc")
	v.fails("unknown flag", "stats", "--bogus")
}

func TestVerbTop(t *testing.T) {
	v := newVerbEnv(t)
	v.runD("--name", "top1")
	out := v.must("top", "top1")
	lines := outLines(out)
	if len(lines) != 2 || !regexp.MustCompile(`^UID\s+PID\s+PPID\s+C\s+STIME\s+TTY\s+TIME\s+CMD$`).MatchString(lines[0]) ||
		!strings.HasSuffix(lines[1], "/probe sleep 600") {
		t.Errorf("top:\n%s", out)
	}
	st := v.must("inspect", "-f", "{{.State.Pid}}", "top1")
	out = v.must("top", "top1", "-o", "pid,comm")
	if want := strings.TrimSpace(st); !regexp.MustCompile(`(?m)^` + want + `\s+probe$`).MatchString(out) {
		t.Errorf("top -o pid,comm: want pid %s and probe:\n%s", want, out)
	}

	v.created("--name", "top-created")
	v.fails("is not running", "top", "top-created")
	v.fails("no such container", "top", "nosuch")
	v.fails("not allowed", "top", "top1", "-o", "user=PID")
	v.fails("ps", "top", "top1", "--no-such-ps-option")
}

func TestVerbCp(t *testing.T) {
	v := newVerbEnv(t)
	id := v.runD("--name", "cp1", "-v", "cpvol:/data", "-v", "cprovol:/ro:ro")
	host := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(host, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cat := func(ctr, p string) string {
		t.Helper()
		return v.must("exec", ctr, "cat", p)
	}

	// Host to container and back.
	src := write("hello.txt", "hello from the host\n")
	v.must("cp", src, "cp1:/tmp/")
	if got := cat("cp1", "/tmp/hello.txt"); got != "hello from the host\n" {
		t.Errorf("copied in: %q", got)
	}
	v.must("cp", "cp1:/tmp/hello.txt", filepath.Join(host, "back.txt"))
	if b, _ := os.ReadFile(filepath.Join(host, "back.txt")); string(b) != "hello from the host\n" {
		t.Errorf("copied out: %q", b)
	}
	// Into a volume: the container sees it, and so does the volume's directory.
	v.must("cp", src, "cp1:/data/")
	mp := strings.TrimSpace(v.must("volume", "inspect", "-f", "{{.Mountpoint}}", "cpvol"))
	if b, _ := os.ReadFile(filepath.Join(mp, "hello.txt")); string(b) != "hello from the host\n" {
		t.Errorf("copied into the volume: %q", b)
	}
	// The bound files are seen as the container sees them.
	v.must("cp", "cp1:/etc/hostname", filepath.Join(host, "hostname"))
	if b, _ := os.ReadFile(filepath.Join(host, "hostname")); strings.TrimSpace(string(b)) != id[:12] {
		t.Errorf("/etc/hostname copied out: %q, want %s", b, id[:12])
	}
	// A read-only volume stays read-only.
	v.fails("read-only", "cp", src, "cp1:/ro/")
	mpro := strings.TrimSpace(v.must("volume", "inspect", "-f", "{{.Mountpoint}}", "cprovol"))
	if exists(filepath.Join(mpro, "hello.txt")) {
		t.Error("a copy landed in the read-only volume")
	}

	// A symlink in the container pointing to /etc leads to the
	// container's /etc, both ways.
	if err := os.Symlink("/etc", filepath.Join(host, "etclink")); err != nil {
		t.Fatal(err)
	}
	v.must("cp", filepath.Join(host, "etclink"), "cp1:/")
	v.must("cp", "cp1:/etclink/passwd", filepath.Join(host, "passwd"))
	ctrPasswd := cat("cp1", "/etc/passwd")
	hostPasswd, _ := os.ReadFile("/etc/passwd")
	if b, _ := os.ReadFile(filepath.Join(host, "passwd")); string(b) != ctrPasswd || string(b) == string(hostPasswd) {
		t.Errorf("cp through /etclink read %q, want the container's /etc/passwd %q", b, ctrPasswd)
	}
	marker := write("berth-verb-marker", "in the container's /etc\n")
	v.must("cp", marker, "cp1:/etclink/")
	if got := cat("cp1", "/etc/berth-verb-marker"); got != "in the container's /etc\n" {
		t.Errorf("cp into /etclink/: the container's /etc has %q", got)
	}
	if exists("/etc/berth-verb-marker") {
		os.Remove("/etc/berth-verb-marker")
		t.Fatal("cp into a container's symlink to /etc wrote the host's /etc")
	}
	// -L copies what the link points to.
	v.must("cp", "-L", "cp1:/etclink", filepath.Join(host, "etc-copy"))
	if fi, err := os.Lstat(filepath.Join(host, "etc-copy")); err != nil || !fi.IsDir() {
		t.Errorf("cp -L of the link: %v, %v", fi, err)
	} else if b, _ := os.ReadFile(filepath.Join(host, "etc-copy", "passwd")); string(b) != ctrPasswd {
		t.Errorf("cp -L: passwd %q", b)
	}

	// Owners: the container's user without -a, the source's with -a.
	owned := write("owned", "x")
	if err := os.Chown(owned, 1234, 5678); err != nil {
		t.Fatal(err)
	}
	v.must("cp", owned, "cp1:/tmp/plain")
	v.must("cp", "-a", owned, "cp1:/tmp/archived")
	if got := strings.TrimSpace(v.must("exec", "cp1", "stat", "-c", "%u:%g", "/tmp/plain")); got != "0:0" {
		t.Errorf("cp without -a: owner %s, want 0:0", got)
	}
	if got := strings.TrimSpace(v.must("exec", "cp1", "stat", "-c", "%u:%g", "/tmp/archived")); got != "1234:5678" {
		t.Errorf("cp -a: owner %s, want 1234:5678", got)
	}

	// Tar streams: out to stdout, in from stdin.
	out := v.must("cp", "cp1:/tmp/hello.txt", "-")
	tr := tar.NewReader(strings.NewReader(out))
	if hdr, err := tr.Next(); err != nil || hdr.Name != "hello.txt" {
		t.Errorf("cp to -: first entry %v, %v", hdr, err)
	} else if b, _ := io.ReadAll(tr); string(b) != "hello from the host\n" {
		t.Errorf("cp to -: %q", b)
	}
	var tb bytes.Buffer
	tw := tar.NewWriter(&tb)
	tw.WriteHeader(&tar.Header{Name: "sub/", Typeflag: tar.TypeDir, Mode: 0o755})
	tw.WriteHeader(&tar.Header{Name: "sub/streamed", Typeflag: tar.TypeReg, Mode: 0o644, Size: 4})
	tw.Write([]byte("tar\n"))
	tw.Close()
	if _, errs, code := v.runStdin(tb.String(), "cp", "-", "cp1:/tmp"); code != 0 {
		t.Fatalf("cp - cp1:/tmp: exit %d: %s", code, errs)
	}
	if got := cat("cp1", "/tmp/sub/streamed"); got != "tar\n" {
		t.Errorf("cp from -: %q", got)
	}
	if _, errs, code := v.runStdin(tb.String(), "cp", "-", "cp1:/etc/passwd"); code != 125 || !strings.Contains(errs, "not a directory") {
		t.Errorf("cp - into a file: exit %d: %s", code, errs)
	}

	// A stopped container: its snapshot is mounted for the copy only,
	// where the host does not see it.
	v.must("stop", "-t", "0", "cp1")
	waitUntil(t, "cp1's rootfs to be unmounted", func() bool { return !verbMounted(t, filepath.Join(v.root, "containers", id, "rootfs")) })
	v.must("cp", "cp1:/tmp/hello.txt", filepath.Join(host, "stopped.txt"))
	v.must("cp", write("later.txt", "later\n"), "cp1:/tmp/")
	v.must("cp", write("vol2.txt", "vol\n"), "cp1:/data/")
	if verbMounted(t, filepath.Join(v.root, "containers", id, "rootfs")) {
		t.Error("cp of a stopped container left its rootfs mounted")
	}
	if b, _ := os.ReadFile(filepath.Join(mp, "vol2.txt")); string(b) != "vol\n" {
		t.Errorf("cp into the volume of a stopped container: %q", b)
	}
	v.must("start", "cp1")
	if got := cat("cp1", "/tmp/later.txt"); got != "later\n" {
		t.Errorf("copied into the stopped container: %q", got)
	}

	v.fails("no such container", "cp", "nosuch:/etc/passwd", host)
	v.fails("Could not find the file /nonexist in container cp1", "cp", "cp1:/nonexist", host)
	v.fails("must specify at least one container source", "cp", src, filepath.Join(host, "x"))
	v.fails("copying between containers is not supported", "cp", "cp1:/etc/passwd", "cp1:/tmp/")
	v.fails("", "cp", filepath.Join(host, "missing"), "cp1:/tmp/")
	v.fails("", "cp", "cp1:/etc/passwd", filepath.Join(host, "no", "such", "dir", "x"))
}

func TestVerbPort(t *testing.T) {
	v := newVerbEnv(t)
	v.runD("--name", "port1")
	if out := v.must("port", "port1"); out != "" {
		t.Errorf("port of a container without published ports: %q", out)
	}
	v.fails("no public port '80/tcp' published for port1", "port", "port1", "80")
	v.fails("no public port '53/udp' published", "port", "port1", "53/udp")
	v.fails("no such container", "port", "nosuch")
	v.fails("port", "port", "port1", "99999")
	v.fails("protocol", "port", "port1", "80/xyz")
}

func TestVerbUpdate(t *testing.T) {
	v := newVerbEnv(t)
	id := v.runD("--name", "upd1")
	limit := "/sys/fs/cgroup/memory/berth/" + id + "/memory.limit_in_bytes"
	pids := "/sys/fs/cgroup/pids/berth/" + id + "/pids.max"
	if _, err := os.Stat("/sys/fs/cgroup/berth/" + id); err == nil {
		limit, pids = "/sys/fs/cgroup/berth/"+id+"/memory.max", "/sys/fs/cgroup/berth/"+id+"/pids.max"
	}
	read := func(p string) string {
		t.Helper()
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(b))
	}
	if out := v.must("update", "--memory", "64m", "--pids-limit", "20", "upd1"); out != "upd1\n" {
		t.Errorf("update printed %q", out)
	}
	if got := read(limit); got != "67108864" {
		t.Errorf("%s = %s, want 67108864", limit, got)
	}
	if got := read(pids); got != "20" {
		t.Errorf("%s = %s, want 20", pids, got)
	}
	// Kept for the next start.
	v.must("restart", "-t", "0", "upd1")
	if got := read(limit); got != "67108864" {
		t.Errorf("after a restart %s = %s, want 67108864", limit, got)
	}
	v.must("update", "--restart", "on-failure:3", "upd1")
	if got := strings.TrimSpace(v.must("inspect", "-f", "{{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}", "upd1")); got != "on-failure:3" {
		t.Errorf("restart policy %s, want on-failure:3", got)
	}
	// A container that does not run is updated for its start.
	v.created("--name", "upd-created")
	v.must("update", "--memory", "32m", "upd-created")
	v.must("start", "upd-created")
	cid := strings.TrimSpace(v.must("inspect", "-f", "{{.Id}}", "upd-created"))
	if got := read(strings.Replace(limit, id, cid, 1)); got != "33554432" {
		t.Errorf("a created container's limit after start: %s, want 33554432", got)
	}

	v.fails("no such container", "update", "--memory", "64m", "nosuch")
	v.fails("minimum memory limit allowed is 6MB", "update", "--memory", "1k", "upd1")
	v.fails("--memory", "update", "--memory", "lots", "upd1")
	v.fails("you must provide one or more flags", "update", "upd1")
	v.fails("--cpus", "update", "--cpus", "-1", "upd1")
	v.fails("--cpuset-cpus", "update", "--cpuset-cpus", "x", "upd1")
	v.fails("restart", "update", "--restart", "sometimes", "upd1")
	v.must("create", "--rm", "--name", "upd-rm", v.image, "/probe", "exit", "0")
	v.fails("AutoRemove", "update", "--restart", "always", "upd-rm")
	if got := read(limit); got != "67108864" {
		t.Errorf("failed updates changed %s to %s", limit, got)
	}
}

func TestVerbEvents(t *testing.T) {
	v := newVerbEnv(t)
	since := strconv.FormatInt(time.Now().Add(-time.Second).Unix(), 10)
	v.must("run", "--rm", "--name", "ev1", v.image, "/probe", "exit", "0")
	v.must("tag", v.image, "verbs/tagged:1")
	until := strconv.FormatInt(time.Now().Add(time.Second).Unix(), 10)
	// --until in the future: events up to then, then exit.
	out := v.must("events", "--since", since, "--until", until, "--filter", "container=ev1", "--format", `{{.Action}} {{index .Actor.Attributes "exitCode"}}`)
	if want := "create \nstart \ndie 0\ndestroy \n"; out != want {
		t.Errorf("events of run --rm: %q, want %q", out, want)
	}
	out = v.must("events", "--since", since, "--until", "0s", "--filter", "event=die", "--format", "json")
	var ev struct {
		Status, ID, From, Type, Action, Scope string
		Actor                                 struct {
			ID         string
			Attributes map[string]string
		}
		Time, TimeNano int64
	}
	if err := json.Unmarshal([]byte(out), &ev); err != nil {
		t.Fatalf("events --format json: %v\n%s", err, out)
	}
	if ev.Type != "container" || ev.Action != "die" || ev.Status != "die" || ev.From != v.image || len(ev.Actor.ID) != 64 ||
		ev.Actor.Attributes["name"] != "ev1" || ev.Actor.Attributes["exitCode"] != "0" || ev.Scope != "local" || ev.TimeNano/1e9 != ev.Time {
		t.Errorf("die event %+v", ev)
	}
	out = v.must("events", "--since", since, "--until", "0s", "--filter", "type=image")
	// The pull may fall within --since (a second's precision), the tag does.
	if !regexp.MustCompile(`^(\S+ image pull ` + regexp.QuoteMeta(v.image) + ` \(name=\S+\)\n)?\S+ image tag sha256:[0-9a-f]{64} \(name=verbs/tagged:1\)\n$`).MatchString(out) {
		t.Errorf("image events: %q, want the tag", out)
	}

	// Follow: an event after the start of berth events is printed, in
	// docker's text format.
	cmd := exec.Command(v.bin, append(append([]string{}, v.flags...), "events", "--filter", "type=volume")...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
	}()
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	line := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}(Z|[+-]\d\d:\d\d) volume create (evvol\d+) \(driver=local\)$`)
	deadline := time.After(pollTimeout)
	got := ""
	for i := 0; got == ""; i++ {
		name := fmt.Sprintf("evvol%d", i)
		v.must("volume", "create", name)
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("berth events ended")
			}
			m := line.FindStringSubmatch(l)
			if m == nil {
				t.Fatalf("events line %q: not docker's format", l)
			}
			got = m[2]
		case <-time.After(time.Second):
			// berth events may not have opened the log yet: another one.
		case <-deadline:
			t.Fatal("berth events printed nothing of the volumes created after it started")
		}
	}
	if _, err := strconv.Atoi(strings.TrimPrefix(got, "evvol")); err != nil {
		t.Errorf("followed event of %q", got)
	}

	v.fails("invalid filter", "events", "--until", "0s", "--filter", "colour=red")
	v.fails("unknown event type", "events", "--until", "0s", "--filter", "type=spaceship")
	v.fails("time", "events", "--since", "yesterday-ish")
	v.fails("before --since", "events", "--since", "10s", "--until", "1m")
}

func TestVerbSystemInfo(t *testing.T) {
	v := newVerbEnv(t)
	v.runD("--name", "info1")
	v.created("--name", "info2")
	var info map[string]any
	out := v.must("system", "info", "--format", "json")
	if err := json.Unmarshal([]byte(out), &info); err != nil {
		t.Fatalf("system info --format json: %v\n%s", err, out)
	}
	for k, want := range map[string]any{
		"Containers": 2.0, "ContainersRunning": 1.0, "ContainersPaused": 0.0, "ContainersStopped": 1.0, "Images": 1.0,
		"DockerRootDir": v.root, "RunRoot": v.runroot, "CgroupDriver": "cgroupfs", "DefaultRuntime": "berth-runtime",
		"OSType": "linux",
	} {
		if info[k] != want {
			t.Errorf("info %s = %v, want %v", k, info[k], want)
		}
	}
	for _, k := range []string{"Driver", "CgroupVersion", "KernelVersion", "OperatingSystem", "Architecture", "ServerVersion", "Name"} {
		if s, _ := info[k].(string); s == "" {
			t.Errorf("info %s empty", k)
		}
	}
	if n, _ := info["NCPU"].(float64); n < 1 {
		t.Errorf("NCPU %v", info["NCPU"])
	}
	if n, _ := info["MemTotal"].(float64); n < 1<<20 {
		t.Errorf("MemTotal %v", info["MemTotal"])
	}
	rts, _ := info["Runtimes"].(map[string]any)
	for _, rt := range []string{"berth-runtime", "runc"} {
		if _, ok := rts[rt]; !ok {
			t.Errorf("Runtimes %v: no %s", rts, rt)
		}
	}
	if _, ok := info["RegistryConfig"].(map[string]any)["IndexConfigs"]; !ok {
		t.Errorf("RegistryConfig %v", info["RegistryConfig"])
	}
	if got := v.must("info", "--format", "{{.Driver}} {{.ContainersRunning}}"); got != info["Driver"].(string)+" 1\n" {
		t.Errorf("info --format template: %q", got)
	}
	text := v.must("system", "info")
	for _, want := range []string{"Containers: 2\n", "  Running: 1\n", "  Stopped: 1\n", "Storage Driver: ", "Cgroup Version: ", "Default Runtime: berth-runtime", "Docker Root Dir: " + v.root + "\n"} {
		if !strings.Contains(text, want) {
			t.Errorf("system info has no %q:\n%s", want, text)
		}
	}
	v.fails("--format", "system", "info", "--format", "{{")
	v.fails("unknown flag", "system", "info", "--bogus")
}

func TestVerbSystemPrune(t *testing.T) {
	v := newVerbEnv(t)
	running := v.runD("--name", "prune-running", "-v", "/anon-running")
	stopped := v.created("--name", "prune-stopped")
	// An anonymous volume left by a container removed without -v.
	gone := v.created("--name", "prune-anon", "-v", "/anon")
	vol := strings.TrimSpace(v.must("inspect", "-f", "{{range .Mounts}}{{.Name}}{{end}}", "prune-anon"))
	v.must("rm", "prune-anon")
	delete(v.ids, gone)

	// Leftovers: a container whose record is gone (as after a crash
	// between the record's removal and the rest), started once so that it
	// left a network namespace, a snapshot and a directory.
	left := v.created("--name", "prune-left")
	delete(v.ids, left)
	db, err := store.Open(filepath.Join(v.root, "berth.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *store.Tx) error {
		if err := store.Delete(tx, store.Containers, left); err != nil {
			return err
		}
		return tx.Release("container", "prune-left")
	}); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	leftDir := filepath.Join(v.root, "containers", left)
	if err := os.Chtimes(leftDir, old, old); err != nil {
		t.Fatal(err)
	}
	// A container directory whose create is at work (it holds the lock):
	// left alone.
	busy := strings.Repeat("b", 64)
	busyDir := filepath.Join(v.root, "containers", busy)
	if err := os.MkdirAll(busyDir, 0o700); err != nil {
		t.Fatal(err)
	}
	lock, err := os.OpenFile(filepath.Join(busyDir, "lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	os.Chtimes(busyDir, old, old)
	t.Cleanup(func() { lock.Close(); os.RemoveAll(busyDir) })

	out := v.must("system", "prune", "-f", "--volumes")
	want := "Deleted Containers:\n" + stopped + "\n\nDeleted Volumes:\n" + vol + "\n\n"
	if !strings.HasPrefix(out, want) {
		t.Errorf("system prune output starts %q, want %q", out, want)
	}
	for _, w := range []string{"netns " + left, "snapshot ctr-" + left, "directory " + leftDir} {
		if !strings.Contains(out, "Deleted Leftovers:\n") || !strings.Contains(out, w+"\n") {
			t.Errorf("system prune does not say %q:\n%s", w, out)
		}
	}
	if !regexp.MustCompile(`\nTotal reclaimed space: [0-9.]+k?M?G?B\n$`).MatchString(out) {
		t.Errorf("system prune output ends:\n%s", out)
	}
	if strings.Contains(out, running) || strings.Contains(out, busy) {
		t.Errorf("system prune touched a running container or a create at work:\n%s", out)
	}
	for _, p := range []string{leftDir, filepath.Join(v.runroot, "netns", left)} {
		if exists(p) {
			t.Errorf("leftover %s not removed", p)
		}
	}
	if !exists(busyDir) {
		t.Error("the directory of a create at work was removed")
	}
	if got := v.must("exec", "prune-running", "/probe", "exit", "0"); got != "" {
		t.Errorf("exec in the running container: %q", got)
	}
	if got := strings.TrimSpace(v.must("ps", "-a", "-q", "--no-trunc")); got != running {
		t.Errorf("containers after prune: %q, want only the running one", got)
	}
	if vs := v.must("volume", "ls", "-q"); strings.Contains(vs, vol) || len(outLines(vs)) != 1 {
		t.Errorf("volumes after prune:\n%s", vs)
	}
	// -a keeps the image the running container uses.
	v.must("system", "prune", "-a")
	if imgs := v.must("images", "-q"); len(outLines(imgs)) != 1 {
		t.Errorf("system prune -a removed the running container's image:\n%s", imgs)
	}
	v.fails("unknown flag", "system", "prune", "--bogus")
}
