package integration

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/berth-project/berth/internal/testenv"
	"github.com/berth-project/berth/test/kit"
)

// Podman 4.3 (Debian 12: podman 4.3.1, conmon 2.1.6) drives berth-runtime
// through conmon: `--runtime <path>` names the binary; Podman runs it for
// create (via conmon), start, exec (via conmon), kill, pause, delete, and
// passes its default seccomp profile.
//
// What this host needs (found by running the same commands under runc 1.1.5):
//   - a private containers.conf (CONTAINERS_CONF): cgroup_manager "cgroupfs"
//     (no systemd), events_logger "file" in the temp dir (no journald), and
//     default_ulimits nofile=20000 and nproc=32768, because root here lacks
//     CAP_SYS_RESOURCE and cannot raise hard limits to Podman's defaults;
//   - --root/--runroot/--tmpdir/--network-config-dir in the temp dir, the vfs
//     storage driver (no mounts to leak), TMPDIR for image copies;
//   - --cgroup-parent /berth/podman-<rand> and --network none (no netavark);
//   - no --runtime-flag root=…: Podman 4.3 passes global runtime flags to
//     create but not to the delete of `run --rm`, which then leaves the state
//     behind; so the runtimes use their default roots (/run/berth-runtime,
//     /run/runc), which the teardown checks and removes if it created them;
//   - pulling writes containers/image's blob-info cache to
//     /var/lib/containers/cache (a fixed path for root); the teardown removes
//     it if this test created it.

// podmanImage is the name the kit's image is tagged with.
const podmanImage = "berth.test/kit:latest"

// podman is Podman with a private store and configuration.
type podman struct {
	dir string
	env []string
	ids []string // containers created, to check the runtime state of
}

// startPodman prepares a private Podman with the kit's image pulled from an
// OCI layout; when the test ends it removes every container and checks that
// no conmon, mount, cgroup or runtime state is left.
func startPodman(t *testing.T) *podman {
	t.Helper()
	testenv.RequiresRoot(t)
	testenv.RequiresBinary(t, "podman")
	testenv.RequiresBinary(t, "conmon")

	// Short paths: conmon's attach socket lives under the runroot.
	dir, err := os.MkdirTemp("", "berth-podman-")
	if err != nil {
		t.Fatal(err)
	}
	p := &podman{dir: dir}
	created := absentPaths(
		"/var/lib/containers/cache/blob-info-cache-v1.boltdb", "/var/lib/containers/cache", "/var/lib/containers",
		"/run/berth-runtime", "/run/runc",
	)
	t.Cleanup(func() {
		p.teardown(t)
		removeCreated(created)
		if err := os.RemoveAll(dir); err != nil {
			t.Errorf("remove %s: %v", dir, err)
		}
	})

	conf := `[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "` + filepath.Join(dir, "events.log") + `"
`
	confPath := filepath.Join(dir, "containers.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(dir, "tmp")
	if err := os.Mkdir(tmp, 0o700); err != nil {
		t.Fatal(err)
	}
	p.env = []string{"CONTAINERS_CONF=" + confPath, "TMPDIR=" + tmp}

	layout := filepath.Join(dir, "layout")
	kit.OCILayout(t, layout, "latest")
	id := strings.TrimSpace(p.must(t, "pull", "-q", "oci:"+layout+":latest"))
	p.must(t, "tag", id, podmanImage)
	return p
}

// run runs podman with the private store and returns stdout, stderr and the
// exit code.
func (p *podman) run(t testing.TB, args ...string) (string, string, int) {
	t.Helper()
	global := []string{
		"--root", filepath.Join(p.dir, "storage"),
		"--runroot", filepath.Join(p.dir, "run"),
		"--tmpdir", filepath.Join(p.dir, "libpod"),
		"--network-config-dir", filepath.Join(p.dir, "net"),
		"--storage-driver", "vfs",
		"--cgroup-manager", "cgroupfs",
		"--events-backend", "file",
	}
	return runCommand(t, p.env, "podman", append(global, args...)...)
}

// must runs podman and fails the test unless it exits 0.
func (p *podman) must(t testing.TB, args ...string) string {
	t.Helper()
	out, errs, code := p.run(t, args...)
	if code != 0 {
		t.Fatalf("podman %s: exit %d: %s%s", strings.Join(args, " "), code, out, errs)
	}
	return out
}

// runFlags are the flags of `podman run` for a container of runtime binary
// rt in a fresh cgroup parent under /berth. When the test ends, the parent
// must hold no container cgroup (libpod-<id>) any more; the parent itself
// and conmon's cgroup, which Podman leaves, are removed.
func (p *podman) runFlags(t testing.TB, rt string) []string {
	t.Helper()
	parent := kit.CgroupParent + "/podman-" + randomSuffix()
	t.Cleanup(func() {
		// Podman's cgroupfs manager also puts conmon into <parent>/conmon
		// and leaves it; only the container's libpod-<id> is the runtime's.
		children, _ := filepath.Glob(filepath.Join("/sys/fs/cgroup", "*", parent, "libpod-*"))
		for _, c := range children {
			if st, err := os.Stat(c); err == nil && st.IsDir() {
				t.Errorf("cgroup %s left behind", c)
			}
		}
		removeClientCgroup(t, parent, false)
	})
	return []string{"--runtime", rt, "--cgroup-parent", parent, "--network", "none"}
}

// inspect returns a field of `podman inspect` of container id, as a Go
// template ("{{.State.Status}}") renders it.
func (p *podman) inspect(t testing.TB, id, format string) string {
	t.Helper()
	return strings.TrimSpace(p.must(t, "inspect", "--format", format, id))
}

// teardown removes what containers are left and checks that nothing of them
// is: conmon processes, mounts, runtime state.
func (p *podman) teardown(t testing.TB) {
	t.Helper()
	if out, _, code := p.run(t, "ps", "-aq"); code == 0 && strings.TrimSpace(out) != "" {
		t.Errorf("containers left: %s", strings.Fields(out))
		p.run(t, "rm", "-af", "-t", "0")
	}
	p.run(t, "rmi", "-af")
	for _, pid := range pidsWithArg(p.dir) {
		t.Errorf("process %d (%s) of this Podman left behind; killing it", pid, procComm(pid))
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	unmountBelow(t, p.dir)
	for _, id := range p.ids {
		for _, root := range []string{"/run/berth-runtime", "/run/runc"} {
			if _, err := os.Stat(filepath.Join(root, id)); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("runtime state %s left behind (%v)", filepath.Join(root, id), err)
			}
		}
	}
}

// clientSeccomp is the seccomp part of a probe report.
type clientSeccomp struct {
	Seccomp struct {
		Mode int `json:"mode"`
	} `json:"seccomp"`
}

func TestPodman(t *testing.T) {
	p := startPodman(t)
	berth := testenv.Binary(t, "berth-runtime")

	t.Run("probe", func(t *testing.T) {
		out := p.must(t, append(append([]string{"run", "--rm"}, p.runFlags(t, berth)...), podmanImage, "/probe", "report")...)
		rep := decodeClientReport(t, out)
		assertClientContainer(t, rep, "/probe", "report")
		if l := rep.Rlimits["RLIMIT_NOFILE"]; l.Soft != 20000 || l.Hard != 20000 {
			t.Errorf("RLIMIT_NOFILE %+v, want containers.conf's 20000:20000", l)
		}
		if len(rep.Hostname) != 12 {
			t.Errorf("hostname %q, want Podman's short container id", rep.Hostname)
		}
		var sc clientSeccomp
		if err := json.Unmarshal([]byte(out), &sc); err != nil {
			t.Fatal(err)
		}
		if sc.Seccomp.Mode != 2 {
			t.Errorf("seccomp mode %d, want 2 (filter: Podman's default profile)", sc.Seccomp.Mode)
		}

		runc := testenv.RequiresBinary(t, "runc")
		ref := p.must(t, append(append([]string{"run", "--rm"}, p.runFlags(t, runc)...), podmanImage, "/probe", "report")...)
		compareClientReports(t, ref, out)
	})

	t.Run("tty", func(t *testing.T) {
		// -t: conmon hands the runtime a --console-socket and gets the pty.
		out := p.must(t, append(append([]string{"run", "--rm", "-t"}, p.runFlags(t, berth)...), podmanImage, "/probe", "report")...)
		var rep struct {
			TTY bool `json:"tty"`
			FDs []probeFD
		}
		if err := json.Unmarshal([]byte(strings.ReplaceAll(out, "\r\n", "\n")), &rep); err != nil {
			t.Fatalf("parse probe report: %v\n%s", err, out)
		}
		if !rep.TTY || len(rep.FDs) < 3 || !strings.HasPrefix(rep.FDs[0].Target, "/dev/pts/") {
			t.Errorf("tty %v, fds %+v; want stdin on a /dev/pts terminal", rep.TTY, rep.FDs)
		}
	})

	t.Run("exit codes", func(t *testing.T) {
		for _, tc := range []struct {
			args []string
			want int
		}{
			{[]string{"sh", "-c", "exit 3"}, 3},
			// Podman maps the runtime's error text to 127 and 126.
			{[]string{"/nonexistent"}, 127},
			{[]string{"no-such-command"}, 127},
			{[]string{"/etc/passwd"}, 126},
			{[]string{"/etc"}, 126},
		} {
			out, errs, code := p.run(t, append(append([]string{"run", "--rm"}, p.runFlags(t, berth)...), append([]string{podmanImage}, tc.args...)...)...)
			if code != tc.want {
				t.Errorf("podman run %q: exit %d, want %d: %s%s", tc.args, code, tc.want, out, errs)
			}
		}
	})

	t.Run("lifecycle", func(t *testing.T) {
		name := "life-" + randomSuffix()
		id := strings.TrimSpace(p.must(t, append(append([]string{"run", "-d", "--name", name}, p.runFlags(t, berth)...), podmanImage, "sleep", "1000")...))
		p.ids = append(p.ids, id)
		if st := p.inspect(t, name, "{{.State.Status}}"); st != "running" {
			t.Fatalf("after run -d: %q, want running", st)
		}
		if _, err := os.Stat(filepath.Join("/run/berth-runtime", id, "state.json")); err != nil {
			t.Errorf("berth-runtime state: %v", err)
		}

		rep := decodeClientReport(t, p.must(t, "exec", name, "/probe", "report"))
		if rep.PID == 1 || len(rep.Cgroup) == 0 || !strings.Contains(rep.Cgroup[0], "/libpod-"+id) {
			t.Errorf("exec'd probe: pid %d, cgroups %q; want another pid in the container's cgroup", rep.PID, rep.Cgroup)
		}
		if _, errs, code := p.run(t, "exec", name, "sh", "-c", "exit 4"); code != 4 {
			t.Errorf("exec sh -c 'exit 4': exit %d, want 4: %s", code, errs)
		}
		if out := p.must(t, "top", name, "args"); !strings.Contains(out, "sleep 1000") {
			t.Errorf("top: %s", out)
		}

		p.must(t, "pause", name)
		if st := p.inspect(t, name, "{{.State.Status}}"); st != "paused" {
			t.Errorf("after pause: %q, want paused", st)
		}
		p.must(t, "unpause", name)
		if st := p.inspect(t, name, "{{.State.Status}}"); st != "running" {
			t.Errorf("after unpause: %q, want running", st)
		}

		// sleep is pid 1 without a handler: SIGTERM does nothing and stop
		// falls back to SIGKILL after the timeout.
		p.must(t, "stop", "-t", "1", name)
		if st, code := p.inspect(t, name, "{{.State.Status}}"), p.inspect(t, name, "{{.State.ExitCode}}"); st != "exited" || code != "137" {
			t.Errorf("after stop: %s, exit code %s; want exited, 137", st, code)
		}
		p.must(t, "rm", name)
		if _, err := os.Stat(filepath.Join("/run/berth-runtime", id)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("berth-runtime state of %s left after rm (%v)", id, err)
		}
	})
}
