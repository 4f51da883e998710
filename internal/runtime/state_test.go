package runtime

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/errdefs"
)

func TestValidateID(t *testing.T) {
	for _, id := range []string{
		"a", "0", "abc", "my-container_1.2+3", "A.B", "a.b.c", strings.Repeat("a", MaxIDLength),
		"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
	} {
		if err := ValidateID(id); err != nil {
			t.Errorf("ValidateID(%q) = %v", id, err)
		}
	}
	for _, tc := range []struct{ id, want string }{
		{"", "empty"},
		{strings.Repeat("a", MaxIDLength+1), "256 bytes"},
		{"a/b", "invalid"},
		{"/abs", "invalid"},
		{"..", "invalid"},
		{"a..b", "invalid"},
		{"../etc", "invalid"},
		{".", "invalid"},
		{".hidden", "invalid"},
		{"-rf", "invalid"},
		{"_a", "invalid"},
		{"a b", "invalid"},
		{"a\x00b", "invalid"},
		{"a\n", "invalid"},
		{"é", "invalid"},
	} {
		err := ValidateID(tc.id)
		if !errors.Is(err, errdefs.ErrInvalidArgument) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ValidateID(%q) = %v, want InvalidArgument saying %q", tc.id, err, tc.want)
		}
	}
}

// self returns a container whose init is the test process itself.
func self(t *testing.T) *Container {
	t.Helper()
	start, state, err := procStat(os.Getpid())
	if err != nil {
		t.Fatalf("procStat(self): %v", err)
	}
	if start == 0 || (state != "R" && state != "S") {
		t.Fatalf("procStat(self) = %d, %q", start, state)
	}
	return &Container{Dir: t.TempDir(), State: State{ID: "self", Pid: os.Getpid(), PidStartTime: start}}
}

func TestStatus(t *testing.T) {
	c := self(t)
	if st := c.Status(); st != Running {
		t.Errorf("status with a live init and no fifo = %s, want running", st)
	}
	if oci := c.OCI(); oci.Status != "running" || oci.Pid != os.Getpid() {
		t.Errorf("OCI state = %s pid %d, want running pid %d", oci.Status, oci.Pid, os.Getpid())
	}

	fifo := filepath.Join(c.Dir, fifoName)
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	if st := c.Status(); st != Created {
		t.Errorf("status with a live init and the exec fifo = %s, want created", st)
	}
	if err := os.Remove(fifo); err != nil {
		t.Fatal(err)
	}

	// Another process with the same pid (another start time) is not the init.
	c.State.PidStartTime++
	if st := c.Status(); st != Stopped {
		t.Errorf("status with a reused pid = %s, want stopped", st)
	}
	if oci := c.OCI(); oci.Status != "stopped" || oci.Pid != 0 {
		t.Errorf("OCI state of a stopped container = %s pid %d, want stopped pid 0", oci.Status, oci.Pid)
	}

	c.State.Pid = 0
	if st := c.Status(); st != Creating {
		t.Errorf("status without a pid = %s, want creating", st)
	}
}

// A zombie init (exited, not yet reaped) is stopped.
func TestStatusZombie(t *testing.T) {
	cmd := exec.Command("/bin/true")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	pid := cmd.Process.Pid
	start, _, err := procStat(pid)
	if err != nil {
		t.Fatal(err)
	}
	// Wait for the exit but leave the zombie in place.
	var info unix.Siginfo
	if err := unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOWAIT, nil); err != nil {
		t.Fatal(err)
	}
	if _, state, err := procStat(pid); err != nil || state != "Z" {
		t.Fatalf("procStat(zombie) = %q, %v", state, err)
	}
	c := &Container{Dir: t.TempDir(), State: State{Pid: pid, PidStartTime: start}}
	if st := c.Status(); st != Stopped {
		t.Errorf("status of a zombie init = %s, want stopped", st)
	}
}

func TestProcStatMissing(t *testing.T) {
	// pid_max is at most 2^22, so this pid never exists.
	if _, _, err := procStat(1 << 23); err == nil {
		t.Errorf("procStat of a pid that cannot exist succeeded")
	}
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	for _, data := range []string{`{"first":1}`, `{"second":2}`} {
		if err := writeFileAtomic(path, []byte(data), 0o600); err != nil {
			t.Fatalf("writeFileAtomic: %v", err)
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != data {
			t.Errorf("file holds %q, want %q", got, data)
		}
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("file mode %v, want 0600", fi.Mode().Perm())
		}
		// No temporary file is left beside it.
		if names := dirNames(t, dir); len(names) != 1 || names[0] != "state.json" {
			t.Errorf("directory holds %q, want only state.json", names)
		}
	}
}

func TestWriteFileAtomicFailure(t *testing.T) {
	dir := t.TempDir()
	// The rename fails: the target is a directory.
	target := filepath.Join(dir, "state.json")
	if err := os.Mkdir(target, 0o755); err != nil {
		t.Fatal(err)
	}
	err := writeFileAtomic(target, []byte("x"), 0o600)
	if err == nil || !strings.Contains(err.Error(), target) {
		t.Errorf("writeFileAtomic over a directory = %v, want an error naming it", err)
	}
	if names := dirNames(t, dir); len(names) != 1 || names[0] != "state.json" {
		t.Errorf("a failed write left %q", names)
	}
	missing := filepath.Join(dir, "missing", "state.json")
	if err := writeFileAtomic(missing, []byte("x"), 0o600); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("writeFileAtomic into a missing directory = %v, want an error naming the file", err)
	}
}

func TestSaveAndLoad(t *testing.T) {
	r := &Runtime{Root: t.TempDir()}
	c := &Container{Dir: filepath.Join(r.Root, "c1"), State: State{OCIVersion: "1.2.0", ID: "c1", Pid: 42, Bundle: "/b", Annotations: map[string]string{"k": "v"}}}
	if err := os.Mkdir(c.Dir, 0o711); err != nil {
		t.Fatal(err)
	}
	if err := c.save(); err != nil {
		t.Fatalf("save: %v", err)
	}
	got, err := r.load("c1")
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if got.Dir != c.Dir || got.State.ID != "c1" || got.State.Pid != 42 || got.State.Annotations["k"] != "v" {
		t.Errorf("load = %+v, want %+v", got, c)
	}
	if _, err := r.load("c2"); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("load of a missing container = %v, want NotFound", err)
	}
	if _, err := r.load("../c1"); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("load of an invalid id = %v, want InvalidArgument", err)
	}
	if err := os.WriteFile(filepath.Join(c.Dir, stateFile), []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := r.load("c1"); err == nil || !strings.Contains(err.Error(), "corrupt state") {
		t.Errorf("load of corrupt state = %v", err)
	}
}
