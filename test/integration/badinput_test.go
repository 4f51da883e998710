package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-project/berth/test/kit"
)

// assertOneLineError checks that the runtime failed with one line on stderr,
// "berth-runtime: …", holding every one of needles.
func assertOneLineError(t testing.TB, what, errs string, code int, needles ...string) {
	t.Helper()
	if code == 0 {
		t.Errorf("%s succeeded, want a failure", what)
		return
	}
	line := strings.TrimSuffix(errs, "\n")
	if strings.Contains(line, "\n") || !strings.HasPrefix(line, "berth-runtime: ") {
		t.Errorf("%s: stderr %q, want one line \"berth-runtime: …\"", what, errs)
	}
	for _, n := range needles {
		if !strings.Contains(line, n) {
			t.Errorf("%s: error %q does not name %q", what, line, n)
		}
	}
}

// copySpec returns a deep copy of s.
func copySpec(t testing.TB, s *specs.Spec) *specs.Spec {
	t.Helper()
	data, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var c specs.Spec
	if err := json.Unmarshal(data, &c); err != nil {
		t.Fatal(err)
	}
	return &c
}

// TestCreateBadInput runs create and run with one kind of bad input at a time: each
// fails with a one-line error naming the input and leaves nothing behind (no
// state, cgroup, mount or process).
func TestCreateBadInput(t *testing.T) {
	r := newRuntime(t)
	b := kit.NewBundle(t)
	good := copySpec(t, b.Spec)
	cfg := filepath.Join(b.Dir, "config.json")
	notDir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notDir, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	mark := newMark()
	sleepTag := "0.000" + fmt.Sprint(os.Getpid()) // an extra sleep argument to find a hanging hook by
	one := 1
	long := strings.Repeat("x", 300)

	for _, tc := range []struct {
		name    string
		id      string
		spec    func(s *specs.Spec) // changes the saved spec
		raw     *string             // config.json's content instead of the spec
		global  []string            // flags before "create"
		needles []string
	}{
		{name: "missing config.json", raw: new(""), needles: []string{b.Dir, "config.json"}},
		{name: "malformed json", raw: new(`{"ociVersion": "1.2.0", "process": {`), needles: []string{cfg}},
		{
			name: "wrong type", raw: new(`{"ociVersion": "1.2.0", "process": {"args": "notalist", "cwd": "/"}, "root": {"path": "rootfs"}, "linux": {}}`),
			needles: []string{cfg, "args"},
		},
		{name: "missing rootfs", spec: func(s *specs.Spec) { s.Root.Path = "no-such-rootfs" }, needles: []string{"no-such-rootfs"}},
		{
			name: "unknown namespace",
			spec: func(s *specs.Spec) {
				s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: "foo"})
			},
			needles: []string{`"foo"`},
		},
		{
			name: "unknown capability",
			spec: func(s *specs.Spec) {
				s.Process.Capabilities.Bounding = append(s.Process.Capabilities.Bounding, "CAP_FOO")
			},
			needles: []string{"CAP_FOO"},
		},
		{
			name: "failing prestart hook",
			spec: func(s *specs.Spec) {
				s.Hooks = &specs.Hooks{Prestart: []specs.Hook{{Path: "/bin/false"}}} //nolint:staticcheck // prestart is deprecated, not gone
			},
			needles: []string{"prestart", "/bin/false"},
		},
		{
			name: "hanging createRuntime hook",
			spec: func(s *specs.Spec) {
				s.Hooks = &specs.Hooks{CreateRuntime: []specs.Hook{{Path: "/bin/sleep", Args: []string{"sleep", "1000", sleepTag}, Timeout: &one}}}
			},
			needles: []string{"createRuntime", "/bin/sleep", "timed out"},
		},
		{name: "missing binary", spec: func(s *specs.Spec) { s.Process.Args = []string{"/nonexistent"} }, needles: []string{"/nonexistent"}},
		{name: "missing relative binary", spec: func(s *specs.Spec) { s.Process.Args = []string{"nonexistent-cmd"} }, needles: []string{"nonexistent-cmd"}},
		{name: "id with slash", id: "a/b", needles: []string{`"a/b"`}},
		{name: "id dot dot", id: "..", needles: []string{`".."`}},
		{name: "id escaping", id: "../x", needles: []string{`"../x"`}},
		{name: "id too long", id: long, needles: []string{long[:20], "300"}},
		{name: "root under /proc", global: []string{"--root", "/proc/xyz"}, needles: []string{"/proc/xyz"}},
		{name: "root is a file", global: []string{"--root", notDir}, needles: []string{notDir}},
		{name: "root below a file", global: []string{"--root", filepath.Join(notDir, "sub")}, needles: []string{filepath.Join(notDir, "sub")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := tc.id
			if id == "" {
				id = "bad"
			}
			b.Spec = copySpec(t, good)
			if tc.spec != nil {
				tc.spec(b.Spec)
			}
			if err := b.Save(); err != nil {
				t.Fatal(err)
			}
			if tc.raw != nil {
				var err error
				if *tc.raw == "" {
					err = os.Remove(cfg)
				} else {
					err = os.WriteFile(cfg, []byte(*tc.raw), 0o644)
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			for _, verb := range []string{"create", "run"} {
				args := append(append([]string(nil), tc.global...), verb, "--bundle", b.Dir, id)
				_, errs, code := r.detached(mark, args...)
				if code == 0 {
					r.exec(nil, "delete", "--force", id)
				}
				assertOneLineError(t, verb+" with "+tc.name, errs, code, tc.needles...)
				t.Logf("%s: stderr: %s", verb, errs)
				if !strings.Contains(id, "/") && id != ".." && len(id) <= 255 {
					assertNoLeaks(t, r, id, b)
				}
				mi, _ := os.ReadFile("/proc/self/mountinfo")
				if strings.Contains(string(mi), b.Rootfs) {
					t.Errorf("%s: mount of %s left behind", verb, b.Rootfs)
				}
				assertNoProcs(t, mark, b, sleepTag)
			}
		})
	}
	b.Spec = good
	if err := b.Save(); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(r.root); len(entries) != 0 {
		t.Errorf("state root %s holds %d entries after the failed creates", r.root, len(entries))
	}
}

// TestDuplicateID: a second create with the id of an existing container
// fails and leaves the first one as it was.
func TestDuplicateID(t *testing.T) {
	r := newRuntime(t)
	b := kit.NewBundle(t)
	setArgs(t, b, "/probe", "sleep", "1000")
	other := kit.NewBundle(t)
	setArgs(t, other, "/probe", "sleep", "1000")
	mark := newMark()
	r.deleteOnCleanup("dup")
	r.mustDetached(mark, "create", "--bundle", b.Dir, "dup")
	before := r.state("dup")

	_, errs, code := r.detached(mark, "create", "--bundle", other.Dir, "dup")
	assertOneLineError(t, "second create of dup", errs, code, `"dup"`, "exists")
	after := r.state("dup")
	if after["status"] != "created" || after["pid"] != before["pid"] || after["bundle"] != b.Dir {
		t.Errorf("state of the first container after the second create = %v, was %v", after, before)
	}
	assertNoProcs(t, "", other) // nothing of the second bundle runs: no process in its cgroup
	for _, d := range []string{"pids", "memory", "freezer"} {
		if p := filepath.Join("/sys/fs/cgroup", d, other.Spec.Linux.CgroupsPath); exists(p) {
			t.Errorf("the failed create left cgroup %s", p)
		}
	}

	r.must("start", "dup")
	_, errs, code = r.exec(nil, "start", "dup")
	assertOneLineError(t, "start of a running container", errs, code, `"dup"`, "running")
	if got := r.status("dup"); got != "running" {
		t.Errorf("status after the second start = %q, want running", got)
	}
	r.must("delete", "--force", "dup")
	assertNoLeaks(t, r, "dup", b)
	assertNoProcs(t, mark, b)
}

// TestUnknownID: verbs on an id that does not exist fail naming it.
func TestUnknownID(t *testing.T) {
	r := newRuntime(t)
	for _, args := range [][]string{
		{"start", "ghost"}, {"kill", "ghost"}, {"kill", "ghost", "KILL"}, {"delete", "ghost"},
		{"state", "ghost"}, {"pause", "ghost"}, {"resume", "ghost"}, {"ps", "ghost"},
		{"exec", "ghost", "true"}, {"events", "--stats", "ghost"}, {"update", "--pids-limit", "5", "ghost"},
	} {
		_, errs, code := r.exec(nil, args...)
		assertOneLineError(t, strings.Join(args, " "), errs, code, `"ghost"`, "does not exist")
	}
	_, errs, code := r.exec(nil, "kill", "ghost", "SIGFOO")
	if code == 0 || !strings.Contains(errs, "ghost") && !strings.Contains(errs, "SIGFOO") {
		t.Errorf("kill ghost SIGFOO: exit %d, stderr %q", code, errs)
	}
	// As runc: delete --force of a missing container succeeds (idempotent).
	if _, errs, code := r.exec(nil, "delete", "--force", "ghost"); code != 0 {
		t.Errorf("delete --force ghost: exit %d, stderr %q; want 0", code, errs)
	}
}

// TestBadSignal: kill with an unknown signal fails naming it and leaves
// the container running.
func TestBadSignal(t *testing.T) {
	r := newRuntime(t)
	b := kit.NewBundle(t)
	setArgs(t, b, "/probe", "sleep", "1000")
	mark := newMark()
	r.deleteOnCleanup("sig")
	r.mustDetached(mark, "run", "-d", "--bundle", b.Dir, "sig")
	for _, sig := range []string{"SIGFOO", "0", "65", "-1"} {
		_, errs, code := r.exec(nil, "kill", "sig", sig)
		assertOneLineError(t, "kill sig "+sig, errs, code, sig)
	}
	if got := r.status("sig"); got != "running" {
		t.Errorf("status after bad kills = %q, want running", got)
	}
	r.must("delete", "--force", "sig")
	assertNoLeaks(t, r, "sig", b)
	assertNoProcs(t, mark, b)
}
