package credentials

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/google/go-containerregistry/pkg/name"
)

// testHelper is docker-credential-test: it keeps each server's
// credentials as a JSON file in $BERTH_TEST_HELPER_DIR, named by the
// server URL's hash, and speaks the helper protocol on stdin/stdout.
const testHelper = `#!/bin/sh
in=$(cat)
case "$1" in
store)
	url=$(printf '%s' "$in" | sed -n 's/.*"ServerURL":"\([^"]*\)".*/\1/p')
	printf '%s' "$in" > "$BERTH_TEST_HELPER_DIR/$(printf '%s' "$url" | sha256sum | cut -c1-16)"
	;;
get)
	f="$BERTH_TEST_HELPER_DIR/$(printf '%s' "$in" | sha256sum | cut -c1-16)"
	if [ ! -f "$f" ]; then echo "credentials not found in native keychain"; exit 1; fi
	cat "$f"
	;;
erase)
	rm -f "$BERTH_TEST_HELPER_DIR/$(printf '%s' "$in" | sha256sum | cut -c1-16)"
	;;
*) echo "unknown action $1" >&2; exit 1 ;;
esac
`

// installHelper puts docker-credential-test on $PATH and returns the
// directory where it keeps credentials.
func installHelper(t *testing.T) string {
	t.Helper()
	bin, store := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(bin, "docker-credential-test"), []byte(testHelper), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv("BERTH_TEST_HELPER_DIR", store)
	return store
}

func TestHelperPerRegistry(t *testing.T) {
	dir := isolate(t)
	store := installHelper(t)
	path := filepath.Join(dir, "config.json")
	writeJSON(t, path, map[string]any{"credHelpers": map[string]string{"localhost:5000": "test"}})

	if err := Store(path, "localhost:5000", "alice", "s3cret"); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	if strings.Contains(string(b), "alice") {
		t.Errorf("secret written to the file with a helper configured: %s", b)
	}
	if ents, _ := os.ReadDir(store); len(ents) != 1 {
		t.Errorf("helper store holds %d entries, want 1", len(ents))
	}
	if c := resolve(t, NewFileKeychain(path), "localhost:5000"); c.Username != "alice" || c.Password != "s3cret" {
		t.Errorf("lookup through the helper: %+v", c)
	}
	if c := resolve(t, NewFileKeychain(path), "other.example"); c.Username != "" {
		t.Errorf("other registry: %+v", c)
	}
	if err := Erase(path, "localhost:5000"); err != nil {
		t.Fatal(err)
	}
	if ents, _ := os.ReadDir(store); len(ents) != 0 {
		t.Errorf("helper store holds %d entries after Erase", len(ents))
	}
	if err := Erase(path, "localhost:5000"); !errdefs.IsNotFound(err) {
		t.Errorf("second Erase: want NotFound, got %v", err)
	}
}

// credsStore serves every registry without an "auths" entry; an identity
// token comes back as one.
func TestHelperDefaultStore(t *testing.T) {
	dir := isolate(t)
	installHelper(t)
	path := filepath.Join(dir, "config.json")
	writeJSON(t, path, map[string]any{"credsStore": "test", "auths": map[string]any{"a.example": basic("file", "1")}})
	if err := Store(path, "docker.io", "<token>", "idtoken"); err != nil {
		t.Fatal(err)
	}
	if c := resolve(t, NewFileKeychain(path), "index.docker.io/library/busybox"); c.IdentityToken != "idtoken" {
		t.Errorf("hub through credsStore: %+v", c)
	}
	if c := resolve(t, NewFileKeychain(path), "a.example"); c.Username != "file" {
		t.Errorf("auths entry beside credsStore: %+v", c)
	}
	writeJSON(t, path, map[string]any{"credHelpers": map[string]string{"b.example": "absent"}})
	_, err := NewFileKeychain(path).Resolve(mustRegistry(t, "b.example"))
	if !errdefs.IsFailedPrecondition(err) || !strings.Contains(err.Error(), "docker-credential-absent") {
		t.Errorf("missing helper: want FailedPrecondition naming it, got %v", err)
	}
}

func mustRegistry(t *testing.T, s string) name.Registry {
	t.Helper()
	r, err := name.NewRegistry(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
