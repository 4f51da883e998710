package engine

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/berth-project/berth/internal/errdefs"
)

func TestSettingsAndRuntimeLookup(t *testing.T) {
	dir := t.TempDir()
	write := func(body string) string {
		p := filepath.Join(dir, "berth.toml")
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	fake := filepath.Join(dir, "my-runtime")
	if err := os.WriteFile(fake, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	s, err := LoadSettings(write("[engine]\nruntime = \"mine\"\n[runtimes]\nmine = \"" + fake + "\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	e := &Engine{settings: s}
	if p, name, err := e.findRuntime(""); err != nil || p != fake || name != "mine" {
		t.Fatalf("default runtime = %s %s %v", p, name, err)
	}
	if p, _, err := e.findRuntime(fake); err != nil || p != fake {
		t.Fatalf("runtime by path = %s %v", p, err)
	}
	if _, _, err := e.findRuntime("no-such-runtime-here"); !errdefs.IsNotFound(err) {
		t.Fatalf("unknown runtime: %v", err)
	}
	for _, bad := range []string{"[engine]\nruntim = \"x\"\n", "[runtimes]\nx = \"relative\"\n", "garbage ="} {
		if _, err := LoadSettings(write(bad)); !errdefs.IsInvalidArgument(err) {
			t.Errorf("LoadSettings(%q): %v, want InvalidArgument", bad, err)
		}
	}
	if _, err := LoadSettings(filepath.Join(dir, "missing.toml")); err == nil {
		t.Error("a named settings file that is missing is not an error")
	}
}
