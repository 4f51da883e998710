package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/test/kit"
)

// ctrBadCases are the suite's scenarios of bad input and failure: each
// must fail clearly (docker's exit codes, a message naming the input) and
// leave nothing behind, or, for failures of the machinery, leave the
// engine telling the truth.
func ctrBadCases() []ctrCaseFunc {
	return []ctrCaseFunc{
		{"bad/unknown-image", caseBadUnknownImage},
		{"bad/flag-values", caseBadFlagValues},
		{"bad/mount-source", caseBadMountSource},
		{"bad/entrypoint", caseBadEntrypoint},
		{"bad/failed-create-volumes", caseBadFailedCreateVolumes},
		{"bad/monitor-killed", caseBadMonitorKilled},
		{"bad/concurrent-runs", caseBadConcurrentRuns},
		{"bad/log-disk-full", caseBadLogDiskFull},
	}
}

// noContainers fails the case if any container of its own exists.
func (c *ctrCase) noContainers(after string) {
	c.t.Helper()
	if out := c.must("ps", "-a", "-q", "--no-trunc", "--filter", "label="+c.label); out != "" {
		c.t.Errorf("after %s: containers left: %q", after, out)
	}
}

func caseBadUnknownImage(c *ctrCase) {
	t := c.t
	ref := kit.Registry(t) + "/itest/containers-nosuch:1"
	for _, verb := range []string{"run", "create"} {
		out, errs := c.expect(125, verb, "--name", c.name(verb), ref, "true")
		if !strings.Contains(errs, "containers-nosuch") {
			t.Errorf("%s of an unknown image: stderr %q, want it named", verb, errs)
		}
		if strings.TrimSpace(out) != "" {
			t.Errorf("%s of an unknown image printed %q", verb, out)
		}
		_, _, code := c.berth("inspect", c.name(verb))
		if code == 0 {
			t.Errorf("%s of an unknown image left a container", verb)
		}
	}
	if _, _, code := c.berth("image", "inspect", ref); code == 0 {
		t.Errorf("an image record of %s was left", ref)
	}
	_, errs := c.expect(125, "run", "--pull", "never", "--rm", "nosuch-local-image:1", "true")
	if !strings.Contains(errs, "nosuch-local-image") {
		t.Errorf("run --pull never of an image not here: %q", errs)
	}
	c.noContainers("unknown images")
}

func caseBadFlagValues(c *ctrCase) {
	t := c.t
	for _, tc := range []struct {
		flags []string
		want  string // in stderr
	}{
		{[]string{"--restart", "bogus"}, "bogus"},
		{[]string{"--restart", "on-failure:x"}, "on-failure:x"},
		{[]string{"--log-opt", "bad"}, "bad"},
		{[]string{"--log-opt", "max-size=lots"}, "lots"},
		{[]string{"--log-opt", "nosuch=1"}, "nosuch"},
		{[]string{"--log-driver", "syslog"}, "syslog"},
		{[]string{"-m", "1x"}, "1x"},
		{[]string{"--memory", "-5m"}, "-5m"},
		{[]string{"--ulimit", "bad"}, "bad"},
		{[]string{"--ulimit", "nofile=200:100"}, "nofile=200:100"},
		{[]string{"--ulimit", "nosuch=1"}, "nosuch"},
		{[]string{"--security-opt", "bad"}, "bad"},
		{[]string{"--security-opt", "seccomp=/nonexistent/profile.json"}, "/nonexistent/profile.json"},
		{[]string{"--network", "bogus"}, "bogus"},
		{[]string{"--cap-add", "NOSUCH"}, "NOSUCH"},
		{[]string{"--stop-signal", "NOPE"}, "NOPE"},
		{[]string{"-v", "relative:dest"}, "dest"},
		{[]string{"--tmpfs", "relative"}, "relative"},
		{[]string{"--mount", "type=bogus,target=/x"}, "bogus"},
		{[]string{"--mount", "type=volume"}, "target"},
		{[]string{"--device", "/nonexistent/device"}, "/nonexistent/device"},
		{[]string{"--env-file", "/nonexistent/env"}, "/nonexistent/env"},
		{[]string{"-u", "nosuchuser"}, "nosuchuser"},
		{[]string{"--pull", "sometimes"}, "sometimes"},
		{[]string{"--rm", "--restart", "always"}, "--rm"},
	} {
		args := append(append(append([]string{"run", "--name", c.name("flags")}, tc.flags...), c.image), "true")
		out, errs, code := c.berth(args...)
		if code != 125 {
			t.Errorf("run %q: exit %d, want 125\n%s%s", tc.flags, code, out, errs)
		}
		if !strings.Contains(errs, tc.want) || strings.TrimSpace(errs) == "" {
			t.Errorf("run %q: stderr %q, want it to name %q", tc.flags, errs, tc.want)
		}
		if _, _, code := c.berth("inspect", c.name("flags")); code == 0 {
			t.Errorf("run %q left a container", tc.flags)
			c.berth("rm", "-f", c.name("flags"))
		}
	}
	// An unknown flag is a usage error (125), with the flag named.
	_, errs := c.expect(125, "run", "--no-such-flag", c.image, "true")
	if !strings.Contains(errs, "no-such-flag") {
		t.Errorf("run --no-such-flag: %q", errs)
	}
	c.noContainers("bad flag values")
}

func caseBadMountSource(c *ctrCase) {
	t := c.t
	missing := filepath.Join(t.TempDir(), "missing")
	_, errs := c.expect(125, "run", "--rm", "--mount", "type=bind,source="+missing+",target=/m", c.image, "true")
	if !strings.Contains(errs, missing) {
		t.Errorf("--mount with a missing source: %q, want the path named", errs)
	}
	if _, err := os.Stat(missing); !os.IsNotExist(err) {
		t.Errorf("--mount type=bind created its missing source (%v); only -v does", err)
	}
	_, errs = c.expect(125, "create", "--mount", "type=bind,source="+missing+",target=/m", c.image, "true")
	if !strings.Contains(errs, missing) {
		t.Errorf("create --mount with a missing source: %q", errs)
	}
	// A bind onto a file from a directory the container cannot enter
	// is the runtime's error: 125 too, and nothing left.
	c.noContainers("missing mount sources")
}

func caseBadEntrypoint(c *ctrCase) {
	t := c.t
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "script"), []byte("#!/bin/sh\necho no\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		flags []string
		code  int
	}{
		{[]string{"--entrypoint", "/no/such/entrypoint"}, 127},
		{[]string{"--entrypoint", "nosuchentrypoint"}, 127},
		{[]string{"--entrypoint", "/etc/hostname"}, 126},
		{[]string{"-v", dir + ":/d", "--entrypoint", "/d/script"}, 126},
		{[]string{"--entrypoint", "/tmp"}, 126},
	} {
		_, errs, code := c.fg(append([]string{"--rm"}, tc.flags...))
		if code != tc.code {
			t.Errorf("run %q: exit %d, want %d\n%s", tc.flags, code, tc.code, errs)
		}
	}
	// Without --rm the container stays, created, with the error; start
	// fails the same way again.
	out, errs, code := c.fg([]string{"--name", c.name("noexec"), "--entrypoint", "/no/such/entrypoint"})
	if code != 127 {
		t.Errorf("run a missing entrypoint: exit %d %s%s", code, out, errs)
	}
	i := c.inspect(c.name("noexec"))
	if i.State.Running || i.State.Pid != 0 {
		t.Errorf("a container that could not start: %+v", i.State)
	}
	if _, errs, code := c.berth("start", c.name("noexec")); code == 0 || !strings.Contains(errs, "/no/such/entrypoint") {
		t.Errorf("start of a container whose entrypoint is missing: exit %d %q", code, errs)
	}
	if st := c.status(c.name("noexec")); st == "running" {
		t.Errorf("status %s", st)
	}
	c.must("rm", c.name("noexec"))
	c.noContainers("missing entrypoints")
}

func caseBadFailedCreateVolumes(c *ctrCase) {
	t := c.t
	// A create that fails after making its volumes takes them back, but
	// leaves a volume that was there before.
	before := c.name("before")
	c.must("volume", "create", before)
	fresh := c.name("fresh")
	_, _ = c.expect(125, "run", "--rm", "-v", fresh+":/f", "-v", before+":/b", "-v", "/anon",
		"--network", "container:nosuch-"+c.tag, c.image, "true")
	if out, _, code := c.berth("volume", "inspect", fresh); code == 0 {
		t.Errorf("a failed create left the volume it made: %s", out)
	}
	if _, err := os.Stat(filepath.Join(c.b.root, "volumes", fresh)); !os.IsNotExist(err) {
		t.Errorf("a failed create left the directory of the volume it made (%v)", err)
	}
	c.must("volume", "inspect", before)
	// The name is usable: the volume is made afresh.
	if out := c.must("run", "--rm", "-v", fresh+":/f", c.image, "sh", "-c", "echo ok > /f/x; cat /f/x"); out != "ok\n" {
		t.Errorf("run with the volume name again: %q", out)
	}
	c.must("volume", "rm", fresh, before)
	c.noContainers("failed creates")
}

func caseBadMonitorKilled(c *ctrCase) {
	t := c.t
	kill := func(id string) {
		t.Helper()
		pidFile := filepath.Join(c.b.runroot, "containers", id, "monitor.pid")
		pid, err := strconv.Atoi(ctrFileText(pidFile))
		if err != nil {
			t.Fatalf("monitor.pid of %s: %v", id[:12], err)
		}
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatalf("kill -9 the monitor %d: %v", pid, err)
		}
		c.waitFor("the monitor to die", func() bool { return len(monitorsOf(filepath.Join(c.b.runroot, "containers", id))) == 0 })
	}
	// rm -f of a container whose monitor is gone.
	a := c.detach(nil, "/probe", "sleep", "100")
	pid := c.inspect(a).State.Pid
	kill(a)
	if st := c.inspect(a).State; st.Status != "running" || st.Pid != pid || st.MonitorPid != 0 {
		t.Errorf("inspect after the monitor's death: %+v, want running pid %d without a monitor", st, pid)
	}
	if out := c.must("ps", "-a", "--filter", "id="+a, "--format", "{{.State}}"); out != "running\n" {
		t.Errorf("ps -a after the monitor's death: %q, want running", out)
	}
	if out := c.execOut(a, "echo", "still"); out != "still\n" {
		t.Errorf("exec after the monitor's death: %q", out)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.must("rm", "-f", a)
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatalf("rm -f of a container whose monitor was killed still runs after 20 s (the container sleeps 100 s)")
	}
	checkCtrGone(t, c.b, a)
	// Dead: gone, or a zombie left to whoever inherited it.
	if st := ctrFileText(fmt.Sprintf("/proc/%d/stat", pid)); st != "" && !strings.Contains(st, ") Z ") {
		t.Errorf("the container's process %d outlived rm -f: %s", pid, st)
	}

	// stop of one: it ends, says so, and starts again with a new monitor.
	b := c.detach(nil, "/probe", "sleep", "100")
	kill(b)
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		c.must("stop", "-t", "2", b)
	}()
	select {
	case <-stopped:
	case <-time.After(20 * time.Second):
		t.Fatalf("stop of a container whose monitor was killed still runs after 20 s")
	}
	if st := c.inspect(b).State; st.Status != "exited" || st.Running {
		t.Errorf("after stop: %+v", st)
	}
	c.must("start", b)
	if st := c.inspect(b).State; st.Status != "running" || st.MonitorPid == 0 {
		t.Errorf("started again: %+v", st)
	}
	c.must("stop", "-t", "1", b)
	c.must("rm", b)
	checkCtrGone(t, c.b, b)

	// A container that exits while its monitor is gone: exited, and rm
	// (no -f) cleans up its rootfs mount and runtime state.
	d := c.detach(nil, "/probe", "sleep", "0.5")
	kill(d)
	c.waitStatus(d, "exited")
	c.must("rm", d)
	checkCtrGone(t, c.b, d)
}

func caseBadConcurrentRuns(c *ctrCase) {
	t := c.t
	const n = 20
	ids := make([]string, n)
	errs := make([]string, n)
	codes := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var out string
			out, errs[i], codes[i] = c.berth("run", "-d", c.image, "/probe", "sleep", "100")
			ids[i] = strings.TrimSpace(out)
		}()
	}
	wg.Wait()
	for i := range n {
		if codes[i] != 0 || !fullID.MatchString(ids[i]) {
			t.Errorf("run -d #%d: exit %d, stdout %q, stderr %q", i, codes[i], ids[i], errs[i])
			continue
		}
		c.mu.Lock()
		c.ids = append(c.ids, ids[i])
		c.mu.Unlock()
	}
	out := c.must("ps", "--no-trunc", "--filter", "label="+c.label, "--format", "{{.ID}} {{.Names}} {{.State}}")
	names := map[string]bool{}
	var listed []string
	for _, l := range outLines(out) {
		f := strings.Fields(l)
		if len(f) != 3 || f[2] != "running" {
			t.Errorf("ps line %q", l)
			continue
		}
		if names[f[1]] {
			t.Errorf("name %s given twice", f[1])
		}
		names[f[1]] = true
		listed = append(listed, f[0])
	}
	slices.Sort(listed)
	want := slices.Clone(ids)
	slices.Sort(want)
	if !slices.Equal(listed, want) {
		t.Errorf("ps lists %d containers, want the %d started", len(listed), len(want))
	}
	// Each has its own cgroup with its process.
	for _, id := range ids {
		if pid := c.inspect(id).State.Pid; !slices.Contains(strings.Fields(ctrFileText(filepath.Join(cgroupDir("pids", id), "cgroup.procs"))), strconv.Itoa(pid)) {
			t.Errorf("%s: pid %d not in its pids cgroup", id[:12], pid)
		}
	}
	// And all removed at once, half by one command.
	var rmWG sync.WaitGroup
	for i := range n / 2 {
		rmWG.Add(1)
		go func() {
			defer rmWG.Done()
			if _, errs, code := c.berth("rm", "-f", ids[i]); code != 0 {
				t.Errorf("rm -f %s: exit %d %s", ids[i][:12], code, errs)
			}
		}()
	}
	if _, errs, code := c.berth(append([]string{"rm", "-f"}, ids[n/2:]...)...); code != 0 {
		t.Errorf("rm -f of ten: exit %d %s", code, errs)
	}
	rmWG.Wait()
	for _, id := range ids {
		checkCtrGone(t, c.b, id)
	}
	c.noContainers("rm -f of all")
}

// caseBadLogDiskFull runs a container that writes more than its log's
// filesystem holds: berth's root on a 24 MB tmpfs of the case's own.
func caseBadLogDiskFull(c *ctrCase) {
	t := c.t
	dir := t.TempDir()
	mnt := filepath.Join(dir, "small")
	if err := os.Mkdir(mnt, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("tmpfs", mnt, "tmpfs", 0, "size=24m,mode=0700"); err != nil {
		t.Fatalf("mount a tmpfs on %s: %v", mnt, err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(mnt, 0); err != nil {
			t.Errorf("unmount %s: %v", mnt, err)
			unix.Unmount(mnt, unix.MNT_DETACH)
		}
	})
	b := &berthCLI{t: t, bin: c.b.bin, root: filepath.Join(mnt, "root"), runroot: filepath.Join(dir, "run")}
	b.flags = []string{"--root", b.root, "--runroot", b.runroot}
	// Registered after the unmount: runs before it.
	t.Cleanup(func() {
		if out, _, _ := b.run("ps", "-a", "-q", "--no-trunc"); out != "" {
			for _, id := range outLines(out) {
				b.run("rm", "-f", id)
				checkCtrGone(t, b, id)
			}
		}
		if m := mountsBelow(b.root, b.runroot); len(m) > 0 {
			t.Errorf("mounts left: %q", m)
		}
	})
	b.must("pull", "-q", c.image)
	d := &ctrCase{ctrSuite: c.ctrSuite, t: t, b: b, label: c.label, tag: c.tag}
	// Fill the filesystem but for a little, then let the container write.
	var st unix.Statfs_t
	if err := unix.Statfs(mnt, &st); err != nil {
		t.Fatal(err)
	}
	filler := filepath.Join(mnt, "filler")
	free := int64(st.Bavail)*st.Bsize - 1<<20
	if err := os.WriteFile(filler, make([]byte, free), 0o600); err != nil && !strings.Contains(err.Error(), "no space") {
		t.Fatal(err)
	}
	id := d.detach(nil, "sh", "-c", "i=0; while true; do i=$((i+1)); echo line $i $i $i $i $i $i $i $i $i $i; done")
	d.waitFor("the log to fill the disk", func() bool {
		var s unix.Statfs_t
		unix.Statfs(mnt, &s)
		return s.Bavail == 0 || s.Bavail*uint64(s.Bsize) < 64<<10
	})
	time.Sleep(300 * time.Millisecond)
	// The container keeps running, and the engine says why its log stops.
	i := d.inspect(id)
	if !i.State.Running {
		t.Errorf("a container whose log filled the disk: %+v, want it running", i.State)
	}
	monLog, _ := os.ReadFile(filepath.Join(b.runroot, "containers", id, "monitor.log"))
	if !strings.Contains(i.State.LogError, "no space left") {
		t.Errorf("inspect State.LogError %q, want the log's write error (no space left)", i.State.LogError)
	}
	if !strings.Contains(string(monLog), "no space") {
		t.Errorf("monitor.log does not say the disk is full: %q", monLog)
	}
	// exec and stop still work with the disk full.
	if out := d.execOut(id, "echo", "alive"); out != "alive\n" {
		t.Errorf("exec in a container whose log is full: %q", out)
	}
	d.must("stop", "-t", "1", id)
	// rm needs room for the store's write: with the disk full it fails
	// clearly; once there is room it removes everything.
	if _, errs, code := d.berth("rm", id); code != 0 && !strings.Contains(errs, "no space") {
		t.Errorf("rm with the disk full: exit %d %q, want success or a clear 'no space'", code, errs)
	}
	os.Remove(filler)
	d.berth("rm", id)
	checkCtrGone(t, b, id)
}
