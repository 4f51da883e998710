package integration

import (
	"encoding/json"
	"fmt"
	"os"
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

// hookScript is a hook: it appends "<name> <$BERTH_HOOK> <state JSON>" to
// the log file (args: path, name, log).
const hookScript = `#!/bin/sh
printf '%s %s %s\n' "$1" "$BERTH_HOOK" "$(cat)" >> "$2"
`

// hookRecord is one line of the hook log.
type hookRecord struct {
	name, env string
	state     specs.State
}

func readHookLog(t *testing.T, path string) []hookRecord {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("hook log: %v", err)
	}
	var recs []hookRecord
	for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		f := strings.SplitN(l, " ", 3)
		if len(f) != 3 {
			t.Fatalf("hook log line %q", l)
		}
		rec := hookRecord{name: f[0], env: f[1]}
		if err := json.Unmarshal([]byte(f[2]), &rec.state); err != nil {
			t.Fatalf("state given to hook %s: %v: %q", f[0], err, f[2])
		}
		recs = append(recs, rec)
	}
	return recs
}

func writeScript(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o755); err != nil {
		t.Fatal(err)
	}
}

// waitStatus polls `state` until id has status want.
func waitStatus(t *testing.T, r *runtimeCLI, id, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		st := r.state(id)
		if st["status"] == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("container %s stays %v, want %s", id, st["status"], want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestHooksAllSix(t *testing.T) {
	r := newRuntime(t)
	b := kit.NewBundle(t)
	logDir := t.TempDir()
	if err := os.Chmod(logDir, 0o777); err != nil {
		t.Fatal(err)
	}
	logFile := filepath.Join(logDir, "log")
	hostHook := filepath.Join(t.TempDir(), "hook.sh")
	writeScript(t, hostHook, hookScript)
	// startContainer runs after pivot_root: its path is in the rootfs, run
	// by busybox sh, and it logs to the bind-mounted log directory.
	writeScript(t, filepath.Join(b.Rootfs, "hook.sh"), hookScript)
	b.Spec.Mounts = append(b.Spec.Mounts, specs.Mount{Destination: "/hooklog", Type: "bind", Source: logDir, Options: []string{"bind", "rw"}})
	hook := func(name, path, log string) []specs.Hook {
		return []specs.Hook{{Path: path, Args: []string{path, name, log}, Env: []string{"PATH=/bin:/usr/bin", "BERTH_HOOK=env-of-" + name}}}
	}
	b.Spec.Hooks = &specs.Hooks{
		Prestart:        hook("prestart", hostHook, logFile),
		CreateRuntime:   hook("createRuntime", hostHook, logFile),
		CreateContainer: hook("createContainer", hostHook, logFile),
		StartContainer:  hook("startContainer", "/hook.sh", "/hooklog/log"),
		Poststart:       hook("poststart", hostHook, logFile),
		Poststop:        hook("poststop", hostHook, logFile),
	}
	b.Spec.Process.Args = []string{"/probe", "signals"}
	const id = "hooks"
	if err := b.Save(); err != nil {
		t.Fatal(err)
	}
	out := r.mustDetached("", "create", "--bundle", b.Dir, id)
	pid := int(r.state(id)["pid"].(float64))
	r.must("start", id)
	waitStatus(t, r, id, "running")
	// "running" comes before the startContainer hook and the execve of the
	// probe; a SIGTERM sent before the probe handles it is lost (the init
	// of a pid namespace ignores signals it has no handler for).
	waitUntil(t, "probe signals ready", func() bool {
		data, _ := os.ReadFile(out)
		return strings.Contains(string(data), "ready")
	})
	r.must("kill", id, "TERM")
	waitStatus(t, r, id, "stopped")
	r.must("delete", id)

	recs := readHookLog(t, logFile)
	var names []string
	for _, rec := range recs {
		names = append(names, rec.name)
	}
	// startContainer (run by the init after `start` opens the exec FIFO)
	// and poststart (run by `start` then) are not ordered between
	// themselves, in runc either.
	want := []string{"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"}
	if len(names) == 6 && names[3] == "poststart" && names[4] == "startContainer" {
		names[3], names[4] = names[4], names[3]
	}
	if !slices.Equal(names, want) {
		t.Fatalf("hooks ran %q, want %q", names, want)
	}
	wantStatus := map[string]specs.ContainerState{
		"prestart": "creating", "createRuntime": "creating", "createContainer": "creating",
		"startContainer": "created", "poststart": "running", "poststop": "stopped",
	}
	for _, rec := range recs {
		if rec.env != "env-of-"+rec.name {
			t.Errorf("hook %s: $BERTH_HOOK %q, want env-of-%s", rec.name, rec.env, rec.name)
		}
		s := rec.state
		if s.Status != wantStatus[rec.name] {
			t.Errorf("hook %s got status %q, want %q", rec.name, s.Status, wantStatus[rec.name])
		}
		if s.ID != id || s.Bundle != b.Dir || s.Version == "" {
			t.Errorf("hook %s got id %q bundle %q version %q, want %s, %s", rec.name, s.ID, s.Bundle, s.Version, id, b.Dir)
		}
		if rec.name != "poststop" && s.Pid != pid {
			t.Errorf("hook %s got pid %d, want the init's %d", rec.name, s.Pid, pid)
		}
	}
	assertNoLeaks(t, r, id, b)
}

func TestHookTimeoutFailsCreate(t *testing.T) {
	r := newRuntime(t)
	b := kit.NewBundle(t)
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "pid")
	hang := filepath.Join(dir, "hang.sh")
	writeScript(t, hang, fmt.Sprintf("#!/bin/sh\necho $$ > %s\nexec sleep 600\n", pidFile))
	b.Spec.Hooks = &specs.Hooks{CreateRuntime: []specs.Hook{{Path: hang, Timeout: ptr(1)}}}
	errs := r.createFails(b, "hook-timeout")
	if !strings.Contains(errs, "createRuntime") || !strings.Contains(errs, "timed out") {
		t.Errorf("create error %q, want one naming the createRuntime hook that timed out", errs)
	}
	if data, err := os.ReadFile(pidFile); err != nil {
		t.Errorf("the hook did not run: %v", err)
	} else if hp, err := strconv.Atoi(strings.TrimSpace(string(data))); err == nil && syscall.Kill(hp, 0) == nil {
		_ = syscall.Kill(hp, syscall.SIGKILL)
		t.Errorf("the timed-out hook (pid %d) still runs", hp)
	}
	assertNoLeaks(t, r, "hook-timeout", b)
}

func TestFailingPostHooksOnlyWarn(t *testing.T) {
	r := newRuntime(t)
	b := kit.NewBundle(t)
	fail := filepath.Join(t.TempDir(), "fail.sh")
	writeScript(t, fail, "#!/bin/sh\necho hook-said-no >&2\nexit 3\n")
	b.Spec.Hooks = &specs.Hooks{
		Poststart: []specs.Hook{{Path: fail}},
		Poststop:  []specs.Hook{{Path: fail}},
	}
	b.Spec.Process.Args = []string{"/probe", "signals"}
	const id = "post-hooks"
	if errs, code := r.create(b, id); code != 0 {
		t.Fatalf("create: exit %d: %s", code, errs)
	}
	_, errs, code := r.exec(nil, "start", id)
	if code != 0 || !strings.Contains(errs, "poststart") || !strings.Contains(errs, "hook-said-no") {
		t.Errorf("start with a failing poststart hook: exit %d, stderr %q; want 0 and a warning", code, errs)
	}
	waitStatus(t, r, id, "running")
	r.must("kill", id, "KILL")
	waitStatus(t, r, id, "stopped")
	_, errs, code = r.exec(nil, "delete", id)
	if code != 0 || !strings.Contains(errs, "poststop") {
		t.Errorf("delete with a failing poststop hook: exit %d, stderr %q; want 0 and a warning", code, errs)
	}
	assertNoLeaks(t, r, id, b)
}
