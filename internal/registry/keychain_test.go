package registry

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// The default keychain finds credentials through a docker credential
// helper named in ~/.docker/config.json.
func TestDefaultKeychainHelper(t *testing.T) {
	f := newFixture(t)
	f.user, f.pass = "berth", "from-helper"
	dir := t.TempDir()
	t.Setenv("HOME", filepath.Join(dir, "home"))
	t.Setenv("DOCKER_CONFIG", "")
	t.Setenv("REGISTRY_AUTH_FILE", "")
	t.Setenv("XDG_RUNTIME_DIR", filepath.Join(dir, "run"))
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(dir, "config"))
	bin := filepath.Join(dir, "bin")
	helper := "#!/bin/sh\n[ \"$1\" = get ] || exit 1\nread -r url || true\n" +
		"printf '{\"ServerURL\":\"%s\",\"Username\":\"berth\",\"Secret\":\"from-helper\"}' \"$url\"\n"
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bin, "docker-credential-test"), []byte(helper), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	conf := must(json.Marshal(map[string]any{"credHelpers": map[string]string{f.host: "test"}}))
	if err := os.MkdirAll(filepath.Join(dir, "home/.docker"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "home/.docker/config.json"), conf, 0o600); err != nil {
		t.Fatal(err)
	}
	c := New(Options{Backoff: Backoff(1, 1)}) // the default keychain
	if _, err := c.Resolve(context.Background(), f.ref(t, "test/img:v1")); err != nil {
		t.Fatalf("pull with the helper's credentials: %v", err)
	}
}
