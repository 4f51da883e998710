package engine

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/monitor"
	"github.com/berth-project/berth/internal/spec"
	"github.com/berth-project/berth/internal/testenv"
	"github.com/berth-project/berth/test/kit"
)

// runEngine opens an engine on roots of the test's own that can run
// containers: berth-monitor found through $PATH (the test binary has no
// bin/ beside it), the CLI's cleanup command, the kit's busybox image
// pulled from an in-process registry. It returns the engine and the image's
// name. When the test ends, nothing may be mounted under its roots.
func runEngine(t *testing.T) (*Engine, string) {
	t.Helper()
	testenv.RequiresRoot(t)
	berth := testenv.Binary(t, "berth")
	testenv.Binary(t, "berth-runtime")
	t.Setenv("PATH", filepath.Dir(testenv.Binary(t, "berth-monitor"))+":"+os.Getenv("PATH"))

	dir := t.TempDir()
	conf := filepath.Join(dir, "registries.toml")
	if err := os.WriteFile(conf, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	root, run := filepath.Join(dir, "root"), filepath.Join(dir, "run")
	e, err := Open(Config{Root: root, RunRoot: run, RegistriesConf: conf, AuthFile: filepath.Join(dir, "auth.json"),
		CleanupCommand: []string{berth, "--root", root, "--runroot", run, "container", "cleanup"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		e.Close()
		mi, _ := os.ReadFile("/proc/self/mountinfo")
		if strings.Contains(string(mi), " "+dir+"/") {
			t.Errorf("mounts left under %s", dir)
		}
	})

	img := kit.BusyboxImage(t, "")
	idx, err := layout.ImageIndexFromPath(img.Layout)
	if err != nil {
		t.Fatal(err)
	}
	h, err := v1.NewHash(img.Digest().String())
	if err != nil {
		t.Fatal(err)
	}
	v1img, err := idx.Image(h)
	if err != nil {
		t.Fatal(err)
	}
	ref := testRegistry(t) + "/kit/busybox:1"
	push(t, ref, v1img)
	if _, err := e.Pull(context.Background(), ref, PullOptions{}); err != nil {
		t.Fatal(err)
	}
	return e, ref
}

// loggingRuntime is berth-runtime behind a script that appends each call's
// arguments to the file it returns.
func loggingRuntime(t *testing.T) (path, log string) {
	t.Helper()
	dir := t.TempDir()
	path, log = filepath.Join(dir, "logging-runtime"), filepath.Join(dir, "calls")
	script := "#!/bin/sh\necho \"$*\" >>" + log + "\nexec " + testenv.Binary(t, "berth-runtime") + " \"$@\"\n"
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return path, log
}

// verbs returns the create, start and delete calls the log holds, in
// order (the verb is the first argument after the global flags; state
// queries come and go with timing and are left out).
func verbs(t *testing.T, log string) []string {
	t.Helper()
	b, err := os.ReadFile(log)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var out []string
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.Fields(line)
		for i := 0; i < len(f); i++ {
			if strings.HasPrefix(f[i], "--") {
				i++ // the flag's value
				continue
			}
			if f[i] == "create" || f[i] == "start" || f[i] == "delete" {
				out = append(out, f[i])
			}
			break
		}
	}
	return out
}

// TestStartDeletesOnlyWhatRan: a container's first start asks the runtime
// to create it without deleting a record first (none can exist); a start
// after a run still deletes what that run may have left.
func TestStartDeletesOnlyWhatRan(t *testing.T) {
	e, ref := runEngine(t)
	ctx := context.Background()
	rt, log := loggingRuntime(t)
	c, err := e.Create(ctx, CreateOptions{Image: ref, Run: spec.RunOptions{Cmd: []string{"true"}}, Runtime: rt})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := e.RemoveContainer(context.Background(), c.ID, RemoveOptions{Force: true}); err != nil && !errdefs.IsNotFound(err) {
			t.Errorf("remove: %v", err)
		}
		checkNoCgroup(t, c.ID)
	})
	for run := 1; run <= 2; run++ {
		if _, err := e.Start(ctx, c.ID); err != nil {
			t.Fatalf("start %d: %v", run, err)
		}
		if code, err := e.Wait(ctx, c.ID); err != nil || code != 0 {
			t.Fatalf("wait %d: %d, %v", run, code, err)
		}
		// The monitor's cleanup (a runtime delete) runs after the exit record.
		if err := waitMonitorGone(ctx, e, c.ID); err != nil {
			t.Fatal(err)
		}
	}
	got := strings.Join(verbs(t, log), " ")
	// Run 1: create, start, then the cleanup's delete; run 2: the stale
	// record's delete, create, start, the cleanup's delete.
	if want := "create start delete delete create start delete"; got != want {
		t.Errorf("runtime calls %q, want %q", got, want)
	}
}

// waitMonitorGone waits until container id's monitor has exited (and reaps
// it: this process launched it).
func waitMonitorGone(ctx context.Context, e *Engine, id string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for ctx.Err() == nil {
		// State leaves MonitorPid out once the exit record exists; the
		// monitor removes its pid file after its exit command.
		if pidAlive(filepath.Join(e.runDir(id), monitor.PidFile)) == 0 {
			reapChildren()
			return nil
		}
		time.Sleep(5 * time.Millisecond)
	}
	return ctx.Err()
}

// reapChildren reaps the exited children of this process (monitors that
// this process launched and released).
func reapChildren() {
	for {
		var ws unix.WaitStatus
		if pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil); err != nil || pid <= 0 {
			return
		}
	}
}

// TestWaitRemoved: a --rm container is gone when WaitRemoved returns, its
// monitor has exited, and WaitRemoved of a container that is not there
// returns at once.
func TestWaitRemoved(t *testing.T) {
	e, ref := runEngine(t)
	ctx := context.Background()
	c, err := e.Create(ctx, CreateOptions{Image: ref, Run: spec.RunOptions{Cmd: []string{"sleep", "0.3"}}, AutoRemove: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := e.RemoveContainer(context.Background(), c.ID, RemoveOptions{Force: true}); err != nil && !errdefs.IsNotFound(err) {
			t.Errorf("remove: %v", err)
		}
		checkNoCgroup(t, c.ID)
	})
	if _, err := e.Start(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	mon := e.State(ctx, c).MonitorPid
	if mon == 0 {
		t.Fatal("no monitor runs after start")
	}
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := e.WaitRemoved(wctx, c.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.InspectContainer(ctx, c.ID); !errdefs.IsNotFound(err) {
		t.Errorf("inspect after WaitRemoved: %v, want not found", err)
	}
	if st := procState(mon); st != "" && st != "Z" {
		t.Errorf("monitor %d is in state %s after WaitRemoved, want exited", mon, st)
	}
	reapChildren()
	for _, p := range []string{e.runDir(c.ID), e.containerDir(c.ID), c.NetNS} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s left after --rm (%v)", p, err)
		}
	}

	if err := e.WaitRemoved(wctx, c.ID); err != nil {
		t.Errorf("WaitRemoved of a removed container: %v", err)
	}
	if err := e.WaitRemoved(wctx, "nosuchcontainer"); err != nil {
		t.Errorf("WaitRemoved of an unknown container: %v", err)
	}
}

// TestWaitRemovedGivesUp: WaitRemoved of a container that stays (not --rm,
// not running) ends with its context.
func TestWaitRemovedGivesUp(t *testing.T) {
	e, ref := runEngine(t)
	ctx := context.Background()
	c, err := e.Create(ctx, CreateOptions{Image: ref, Run: spec.RunOptions{Cmd: []string{"true"}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := e.RemoveContainer(context.Background(), c.ID, RemoveOptions{Force: true}); err != nil {
			t.Errorf("remove: %v", err)
		}
	})
	wctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if err := e.WaitRemoved(wctx, c.ID); err == nil {
		t.Error("WaitRemoved of a container that stays returned nil")
	}
}

// checkNoCgroup fails t if a cgroup named after container id is left under
// the containers' parent in any hierarchy.
func checkNoCgroup(t *testing.T, id string) {
	t.Helper()
	left, _ := filepath.Glob(filepath.Join("/sys/fs/cgroup", "*", spec.DefaultCgroupParent, id))
	if more, _ := filepath.Glob(filepath.Join("/sys/fs/cgroup", spec.DefaultCgroupParent, id)); len(more) > 0 {
		left = append(left, more...)
	}
	if len(left) > 0 {
		t.Errorf("cgroups left: %q", left)
	}
}

// procState is the state letter of process pid ("" once it is gone).
func procState(pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return ""
	}
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && len(s) > i+2 {
		return s[i+2 : i+3]
	}
	return "?"
}
