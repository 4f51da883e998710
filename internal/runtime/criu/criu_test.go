package criu

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/berth-project/berth/internal/testenv"
)

func TestVersionOverRPC(t *testing.T) {
	testenv.RequiresRoot(t)
	path := testenv.RequiresBinary(t, "criu")
	c := Client{Path: path}
	v, err := c.Version()
	if err != nil {
		t.Fatalf("Version: %v", err)
	}
	if !regexp.MustCompile(`^[1-9][0-9]*\.[0-9]+\.[0-9]+$`).MatchString(v) {
		t.Errorf("Version = %q, want major.minor.sublevel", v)
	}
}

func TestStartedGetsTheSwrkPid(t *testing.T) {
	testenv.RequiresRoot(t)
	path := testenv.RequiresBinary(t, "criu")
	var comm string
	c := Client{Path: path, Started: func(pid int) error {
		b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "comm"))
		comm = strings.TrimSpace(string(b))
		return err
	}}
	if _, err := c.Version(); err != nil {
		t.Fatalf("Version: %v", err)
	}
	if comm != "criu" {
		t.Errorf("Started saw a process named %q, want criu", comm)
	}
}

func TestMissingBinary(t *testing.T) {
	if _, err := LookPath("/nonexistent/criu"); err == nil || !strings.Contains(err.Error(), `criu binary "/nonexistent/criu" not found`) {
		t.Errorf("LookPath of a missing binary: %v, want an error naming it", err)
	}
	c := Client{Path: "/nonexistent/criu"}
	if _, err := c.Version(); err == nil || !strings.Contains(err.Error(), "/nonexistent/criu") {
		t.Errorf("Version with a missing binary: %v, want an error naming it", err)
	}
}

func TestLogErrorsAndHint(t *testing.T) {
	log := filepath.Join(t.TempDir(), "dump.log")
	data := `(00.016297) vdso: Parsing at 7fb69f26e000 7fb69f270000
(00.016313) Error (criu/vdso.c:381): vdso: Unexpected rt vDSO area bounds
(00.016315) Error (criu/vdso.c:613): vdso: Failed to fill self vdso symtable
(00.016316) Error (criu/kerndat.c:1615): kerndat_vdso_fill_symtable failed when initializing kerndat.
`
	if err := os.WriteFile(log, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	got := LogErrors(log, 2)
	want := []string{
		"Error (criu/vdso.c:381): vdso: Unexpected rt vDSO area bounds",
		"Error (criu/vdso.c:613): vdso: Failed to fill self vdso symtable",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("LogErrors = %q, want %q", got, want)
	}
	if h := Hint(got); !strings.Contains(h, "vvar_vclock") {
		t.Errorf("Hint = %q, want the vvar_vclock explanation", h)
	}
	if h := Hint([]string{"Error (criu/files.c:1): something else"}); h != "" {
		t.Errorf("Hint of an unknown error = %q, want none", h)
	}
	if got := LogErrors(filepath.Join(t.TempDir(), "missing.log"), 3); got != nil {
		t.Errorf("LogErrors of a missing log = %q, want nil", got)
	}
}
