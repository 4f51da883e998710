package integration

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-project/berth/internal/testenv"
	"github.com/berth-project/berth/test/kit"
)

// runtimeCLI is berth-runtime (or another OCI runtime) with a private --root.
type runtimeCLI struct {
	t    testing.TB
	bin  string
	root string
}

// newRuntime returns berth-runtime with a state root of the test's own; the
// test fails if containers are left in it at the end.
func newRuntime(t testing.TB) *runtimeCLI {
	t.Helper()
	testenv.RequiresRoot(t)
	r := &runtimeCLI{t: t, bin: testenv.Binary(t, "berth-runtime"), root: t.TempDir()}
	t.Cleanup(func() {
		entries, _ := os.ReadDir(r.root)
		for _, e := range entries {
			t.Errorf("container %q left in %s", e.Name(), r.root)
			r.exec(nil, "delete", "-f", e.Name())
		}
	})
	return r
}

// exec runs the runtime with args (and stdin) and returns stdout, stderr and
// the exit code.
func (r *runtimeCLI) exec(stdin []byte, args ...string) (string, string, int) {
	r.t.Helper()
	cmd := exec.Command(r.bin, append([]string{"--root", r.root}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		r.t.Fatalf("run %s %v: %v", r.bin, args, err)
	}
	return out.String(), errb.String(), code
}

// must runs the runtime and fails the test unless it exits 0.
func (r *runtimeCLI) must(args ...string) string {
	r.t.Helper()
	out, errs, code := r.exec(nil, args...)
	if code != 0 {
		r.t.Fatalf("berth-runtime %s: exit %d: %s", strings.Join(args, " "), code, errs)
	}
	return out
}

// state returns the parsed `state` output of id.
func (r *runtimeCLI) state(id string) map[string]any {
	r.t.Helper()
	var st map[string]any
	if err := json.Unmarshal([]byte(r.must("state", id)), &st); err != nil {
		r.t.Fatalf("parse state of %s: %v", id, err)
	}
	return st
}

// report runs bundle b's process in the foreground (`run`) and decodes the
// probe's JSON report into v.
func (r *runtimeCLI) report(b *kit.Bundle, id string, v any) {
	r.t.Helper()
	if err := b.Save(); err != nil {
		r.t.Fatal(err)
	}
	out, errs, code := r.exec(nil, "run", "--bundle", b.Dir, id)
	if code != 0 {
		r.t.Fatalf("run %s: exit %d: %s", id, code, errs)
	}
	if err := json.Unmarshal([]byte(out), v); err != nil {
		r.t.Fatalf("parse probe report: %v\n%s", err, out)
	}
}

// assertNoLeaks checks that nothing of container id (bundle b) is left: no
// state directory, no cgroup directory, no mount under the bundle.
func assertNoLeaks(t testing.TB, r *runtimeCLI, id string, b *kit.Bundle) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(r.root, id)); err == nil {
		t.Errorf("state directory of %s left behind", id)
	}
	if b == nil {
		return
	}
	cg := b.Spec.Linux.CgroupsPath
	if cg != "" {
		dirs, _ := filepath.Glob("/sys/fs/cgroup/*" + cg)
		for _, d := range dirs {
			t.Errorf("cgroup %s left behind", d)
		}
		if _, err := os.Stat("/sys/fs/cgroup" + cg); err == nil {
			t.Errorf("cgroup /sys/fs/cgroup%s left behind", cg)
		}
	}
	mi, _ := os.ReadFile("/proc/self/mountinfo")
	if strings.Contains(string(mi), b.Dir) {
		t.Errorf("mount under %s left behind", b.Dir)
	}
}

// probeReport is the JSON of `probe report` (test/probe/report.go).
type probeReport struct {
	PID         int                    `json:"pid"`
	PPID        int                    `json:"ppid"`
	UID         int                    `json:"uid"`
	EUID        int                    `json:"euid"`
	GID         int                    `json:"gid"`
	EGID        int                    `json:"egid"`
	Groups      []int                  `json:"groups"`
	Umask       string                 `json:"umask"`
	Cwd         string                 `json:"cwd"`
	Hostname    string                 `json:"hostname"`
	Domainname  string                 `json:"domainname"`
	Env         []string               `json:"env"`
	Args        []string               `json:"args"`
	Caps        probeCapSets           `json:"caps"`
	NoNewPrivs  bool                   `json:"no_new_privs"`
	Rlimits     map[string]probeRlimit `json:"rlimits"`
	OOMScoreAdj int                    `json:"oom_score_adj"`
	Namespaces  map[string]string      `json:"namespaces"`
	Cgroup      []string               `json:"cgroup"`
	Mounts      []probeMount           `json:"mounts"`
	FDs         []probeFD              `json:"fds"`
	Errors      map[string]string      `json:"errors"`
}

// probeCapSet is one capability set: its mask and the names of its bits.
type probeCapSet struct {
	Hex   string   `json:"hex"`
	Names []string `json:"names"`
}

type probeCapSets struct {
	Inheritable probeCapSet `json:"inheritable"`
	Permitted   probeCapSet `json:"permitted"`
	Effective   probeCapSet `json:"effective"`
	Bounding    probeCapSet `json:"bounding"`
	Ambient     probeCapSet `json:"ambient"`
}

type probeRlimit struct {
	Soft int64 `json:"soft"`
	Hard int64 `json:"hard"`
}

// probeMount is one line of the container's /proc/self/mountinfo.
type probeMount struct {
	Root         string   `json:"root"`
	Mountpoint   string   `json:"mountpoint"`
	Options      []string `json:"options"`
	Propagation  string   `json:"propagation"`
	FSType       string   `json:"fstype"`
	Source       string   `json:"source"`
	SuperOptions []string `json:"super_options"`
}

type probeFD struct {
	FD     int    `json:"fd"`
	Target string `json:"target"`
}

// probeStat is the JSON of `probe stat PATH`.
type probeStat struct {
	Type   string  `json:"type"`
	Mode   string  `json:"mode"`
	UID    uint32  `json:"uid"`
	GID    uint32  `json:"gid"`
	Size   int64   `json:"size"`
	Major  *uint32 `json:"major"`
	Minor  *uint32 `json:"minor"`
	Target string  `json:"target"`
}

// mount returns the last mount at mountpoint (the one on top), or fails.
func (rep *probeReport) mount(t testing.TB, mountpoint string) probeMount {
	t.Helper()
	for i := len(rep.Mounts) - 1; i >= 0; i-- {
		if rep.Mounts[i].Mountpoint == mountpoint {
			return rep.Mounts[i]
		}
	}
	t.Fatalf("no mount at %s in the container", mountpoint)
	return probeMount{}
}

// runOutput saves bundle b and runs its process in the foreground (`run`),
// returning the process's stdout and stderr (with the runtime's) and the
// exit code.
func (r *runtimeCLI) runOutput(b *kit.Bundle, id string) (string, string, int) {
	r.t.Helper()
	if err := b.Save(); err != nil {
		r.t.Fatal(err)
	}
	return r.exec(nil, "run", "--bundle", b.Dir, id)
}

// runShell runs script with the rootfs's busybox sh as b's process and
// returns its stdout; the test fails unless it exits 0.
func (r *runtimeCLI) runShell(b *kit.Bundle, id, script string) string {
	r.t.Helper()
	b.Spec.Process.Args = []string{"/bin/sh", "-c", script}
	out, errs, code := r.runOutput(b, id)
	if code != 0 {
		r.t.Fatalf("run %s: sh -c %q: exit %d: %s%s", id, script, code, out, errs)
	}
	return out
}

// create saves b and runs `create` for it, returning the runtime's stderr
// and exit code. The runtime's stdio are files, not pipes: the created
// container inherits them and keeps them open until it exits.
func (r *runtimeCLI) create(b *kit.Bundle, id string, args ...string) (string, int) {
	r.t.Helper()
	if err := b.Save(); err != nil {
		r.t.Fatal(err)
	}
	errf, err := os.CreateTemp(r.t.TempDir(), "stderr")
	if err != nil {
		r.t.Fatal(err)
	}
	defer errf.Close()
	args = append([]string{"--root", r.root, "create", "--bundle", b.Dir}, args...)
	cmd := exec.Command(r.bin, append(args, id)...)
	cmd.Stderr = errf
	err = cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		r.t.Fatalf("run %s create %s: %v", r.bin, id, err)
	}
	errs, err := os.ReadFile(errf.Name())
	if err != nil {
		r.t.Fatal(err)
	}
	return string(errs), code
}

// createFails checks that `create` of b fails and returns the runtime's
// stderr.
func (r *runtimeCLI) createFails(b *kit.Bundle, id string) string {
	r.t.Helper()
	errs, code := r.create(b, id)
	if code == 0 {
		r.exec(nil, "delete", "-f", id)
		r.t.Fatalf("create %s succeeded, want an error", id)
	}
	return errs
}
