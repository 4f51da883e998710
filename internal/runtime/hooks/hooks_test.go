package hooks

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// script writes an executable shell script into dir and returns its path.
func script(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// recorder is a hook that records its stdin, its environment (exactly as
// execve gave it) and its arguments into out.*.
const recorder = `/bin/cat > "$OUT.stdin"
/bin/cat /proc/$$/environ > "$OUT.env"
for a in "$@"; do printf '%s\n' "$a"; done > "$OUT.args"
`

func timeout(n int) *int { return &n }

func TestRunPassesStateEnvAndArgs(t *testing.T) {
	dir := t.TempDir()
	hook := script(t, dir, "hook", recorder)
	out := filepath.Join(dir, "out")
	state := &specs.State{
		Version: specs.Version, ID: "c1", Status: specs.StateCreated, Pid: 4242,
		Bundle: "/bundles/c1", Annotations: map[string]string{"a": "b"},
	}
	err := Run("prestart", []specs.Hook{{
		Path:    hook,
		Args:    []string{"hook-name", "one", "two words", ""},
		Env:     []string{"OUT=" + out, "FOO=bar baz"},
		Timeout: timeout(10),
	}}, state)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}

	var got specs.State
	if err := json.Unmarshal([]byte(read(t, out+".stdin")), &got); err != nil {
		t.Fatalf("hook stdin is not state JSON: %v", err)
	}
	if !reflect.DeepEqual(&got, state) {
		t.Errorf("hook got state %+v, want %+v", got, *state)
	}
	if env, want := read(t, out+".env"), "OUT="+out+"\x00FOO=bar baz\x00"; env != want {
		t.Errorf("hook environment %q, want exactly %q", env, want)
	}
	// argv[0] is consumed by the script's interpreter; the others arrive as given.
	if args, want := read(t, out+".args"), "one\ntwo words\n\n"; args != want {
		t.Errorf("hook arguments %q, want %q", args, want)
	}
}

func TestRunNoEnvNoArgs(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	// No env in the hook: the script cannot use $OUT, so it is written in.
	hook := script(t, dir, "hook", strings.ReplaceAll(recorder, "$OUT", out))
	if err := Run("poststop", []specs.Hook{{Path: hook}}, &specs.State{ID: "c2"}); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if env := read(t, out+".env"); env != "" {
		t.Errorf("hook without env got environment %q, want none", env)
	}
	if args := read(t, out+".args"); args != "" {
		t.Errorf("hook without args got arguments %q", args)
	}
}

func TestRunEmpty(t *testing.T) {
	if err := Run("prestart", nil, nil); err != nil {
		t.Errorf("Run with no hooks: %v", err)
	}
}

func TestRunStopsAtFailingHook(t *testing.T) {
	dir := t.TempDir()
	ok := script(t, dir, "ok", "exit 0\n")
	bad := script(t, dir, "bad", "echo something went wrong >&2\nexit 3\n")
	marker := filepath.Join(dir, "third-ran")
	third := script(t, dir, "third", "/usr/bin/touch "+marker+"\n")

	err := Run("createRuntime", []specs.Hook{{Path: ok}, {Path: bad}, {Path: third}}, &specs.State{ID: "c3"})
	if err == nil {
		t.Fatal("Run with a failing hook succeeded")
	}
	for _, want := range []string{"createRuntime hook #1", bad, "exit status 3", "something went wrong"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	if _, err := os.Stat(marker); err == nil {
		t.Errorf("the hook after the failing one ran")
	}
}

func TestRunMissingHook(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing")
	err := Run("poststart", []specs.Hook{{Path: missing}}, &specs.State{})
	if err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("Run of a missing hook = %v, want an error naming it", err)
	}
}

func TestRunTimeout(t *testing.T) {
	err := Run("startContainer", []specs.Hook{{Path: "/bin/sleep", Args: []string{"sleep", "60"}, Timeout: timeout(1)}}, &specs.State{})
	if err == nil {
		t.Fatal("a hook that outlives its timeout succeeded")
	}
	if !strings.Contains(err.Error(), "timed out") || !strings.Contains(err.Error(), "/bin/sleep") {
		t.Errorf("error %q should say the hook /bin/sleep timed out", err)
	}
}

func TestRunBadTimeout(t *testing.T) {
	dir := t.TempDir()
	marker := filepath.Join(dir, "ran")
	hook := script(t, dir, "hook", "/usr/bin/touch "+marker+"\n")
	for _, n := range []int{0, -1} {
		err := Run("prestart", []specs.Hook{{Path: hook, Timeout: timeout(n)}}, &specs.State{})
		if err == nil || !strings.Contains(err.Error(), "must be positive") {
			t.Errorf("timeout %d: error %v, want one saying it must be positive", n, err)
		}
	}
	if _, err := os.Stat(marker); err == nil {
		t.Errorf("a hook with an invalid timeout ran")
	}
}

// Args[0] is the hook's argv[0], not its path (as in runc).
func TestRunArgv0(t *testing.T) {
	out := filepath.Join(t.TempDir(), "cmdline")
	cmd := "/bin/cat /proc/$$/cmdline > " + out
	if err := Run("prestart", []specs.Hook{{Path: "/bin/sh", Args: []string{"my-hook", "-c", cmd}}}, &specs.State{}); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if got, want := read(t, out), "my-hook\x00-c\x00"+cmd+"\x00"; got != want {
		t.Errorf("hook command line %q, want %q", got, want)
	}
}

// TestTimeoutKillsChildren: a hook's children die with it on timeout.
func TestTimeoutKillsChildren(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "child.pid")
	hook := script(t, dir, "spawner", "/bin/sleep 60 &\necho $! > "+pidFile+"\nwait\n")
	err := Run("prestart", []specs.Hook{{Path: hook, Timeout: timeout(1)}}, &specs.State{ID: "x"})
	if err == nil || !strings.Contains(err.Error(), "timed out") {
		t.Fatalf("Run: %v, want a timeout", err)
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	for i := 0; i < 200; i++ {
		if syscall.Kill(pid, 0) != nil {
			return
		}
		// a zombie until its reaper (init) collects it: check its state
		if st, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat"); strings.Contains(string(st), ") Z ") {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	syscall.Kill(pid, syscall.SIGKILL)
	t.Errorf("the hook's child %d outlived the hook's timeout", pid)
}

// TestRunAllGoesOn: RunAll runs the hooks after a failing one and reports
// the failure.
func TestRunAllGoesOn(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "ran")
	list := []specs.Hook{{Path: "/bin/false"}, {Path: script(t, dir, "second", "echo second >> "+out+"\n")}}
	err := RunAll("poststart", list, &specs.State{ID: "x"})
	if err == nil || !strings.Contains(err.Error(), "poststart hook #0 (/bin/false)") {
		t.Errorf("RunAll: %v, want the first hook's failure", err)
	}
	if got := read(t, out); got != "second\n" {
		t.Errorf("the second hook wrote %q, want it run once", got)
	}
}
