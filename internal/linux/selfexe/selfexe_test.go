package selfexe

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/testenv"
)

// TestSealIsReadOnly: through the sealed handle a file cannot be opened for
// writing (EROFS) — what a container would do with /proc/<pid>/exe once the
// runtime exited (CVE-2019-5736) — while the file itself stays writable.
func TestSealIsReadOnly(t *testing.T) {
	testenv.RequiresRoot(t)
	p := filepath.Join(t.TempDir(), "echo")
	data, err := os.ReadFile("/bin/echo")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := seal(p)
	if err != nil {
		t.Fatalf("seal: %v", err)
	}
	defer f.Close()
	via := "/proc/self/fd/" + strconv.Itoa(int(f.Fd()))
	if _, err := os.OpenFile(via, os.O_WRONLY, 0); !errors.Is(err, unix.EROFS) {
		t.Errorf("open %s for writing: %v, want EROFS", via, err)
	}
	out, err := exec.Command(via, "sealed").Output()
	if err != nil || strings.TrimSpace(string(out)) != "sealed" {
		t.Errorf("exec through the seal: %q, %v", out, err)
	}
	w, err := os.OpenFile(p, os.O_WRONLY, 0)
	if err != nil {
		t.Errorf("the file itself is not writable any more: %v", err)
	} else {
		w.Close()
	}
}

// TestPath: the runtime re-executes itself through a sealed /proc/self/fd path.
func TestPath(t *testing.T) {
	testenv.RequiresRoot(t)
	p, err := Path()
	if err != nil || !strings.HasPrefix(p, "/proc/self/fd/") {
		t.Fatalf("Path = %q, %v; want a sealed /proc/self/fd/ path", p, err)
	}
	if err := unix.Access(p, unix.X_OK); err != nil {
		t.Errorf("%s is not executable: %v", p, err)
	}
}
