package credentials

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
)

// writeJSON writes v as JSON to path, creating its directory.
func writeJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func basic(user, pass string) map[string]string {
	return map[string]string{"auth": base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))}
}

// resolve returns what kc gives for the resource s (a registry, or a
// repository when s has a '/').
func resolve(t *testing.T, kc authn.Keychain, s string) authn.AuthConfig {
	t.Helper()
	var res authn.Resource
	var err error
	if strings.Contains(s, "/") {
		res, err = name.NewRepository(s)
	} else {
		res, err = name.NewRegistry(s)
	}
	if err != nil {
		t.Fatal(err)
	}
	a, err := kc.Resolve(res)
	if err != nil {
		t.Fatalf("%s: %v", s, err)
	}
	cfg, err := a.Authorization()
	if err != nil {
		t.Fatal(err)
	}
	return *cfg
}

// isolate points every location Files looks at into a fresh directory.
func isolate(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("HOME", filepath.Join(dir, "home"))
	t.Setenv("XDG_RUNTIME_DIR", filepath.Join(dir, "run"))
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(dir, "config"))
	t.Setenv("REGISTRY_AUTH_FILE", "")
	t.Setenv("DOCKER_CONFIG", "")
	return dir
}

func TestFiles(t *testing.T) {
	dir := isolate(t)
	t.Setenv("REGISTRY_AUTH_FILE", filepath.Join(dir, "env.json"))
	want := []string{
		filepath.Join(dir, "explicit.json"),
		filepath.Join(dir, "env.json"),
		filepath.Join(dir, "run/containers/auth.json"),
		filepath.Join(dir, "config/containers/auth.json"),
		filepath.Join(dir, "home/.docker/config.json"),
	}
	if got := Files(filepath.Join(dir, "explicit.json")); !slices.Equal(got, want) {
		t.Errorf("Files:\n got %q\nwant %q", got, want)
	}
	t.Setenv("DOCKER_CONFIG", filepath.Join(dir, "dc"))
	if got := DefaultFile(); got != filepath.Join(dir, "dc/config.json") {
		t.Errorf("DefaultFile with DOCKER_CONFIG: %s", got)
	}
	if got := Files(""); got[0] != filepath.Join(dir, "env.json") || got[len(got)-1] != filepath.Join(dir, "dc/config.json") {
		t.Errorf("Files(\"\"): %q", got)
	}
}

// The first file with credentials for a registry wins; the others are
// searched for the registries it lacks; absent files are skipped.
func TestKeychainOrder(t *testing.T) {
	dir := isolate(t)
	explicit := filepath.Join(dir, "explicit.json")
	writeJSON(t, explicit, map[string]any{"auths": map[string]any{"a.example:5000": basic("explicit", "1")}})
	writeJSON(t, filepath.Join(dir, "run/containers/auth.json"), map[string]any{"auths": map[string]any{
		"a.example:5000": basic("podman", "2"), "b.example": basic("podman", "3")}})
	writeJSON(t, filepath.Join(dir, "home/.docker/config.json"), map[string]any{"auths": map[string]any{
		"b.example": basic("docker", "4"), "https://index.docker.io/v1/": basic("hub", "5"),
		"http://localhost:5000/v2/": basic("local", "6"),
		"quay.io":                   basic("quay", "7"), "quay.io/org": basic("org", "8"),
		"c.example": map[string]string{"username": "plain", "password": "9"},
	}})

	kc := NewKeychain(explicit)
	for _, tc := range []struct{ res, user, pass string }{
		{"a.example:5000", "explicit", "1"},
		{"a.example:5000/some/repo", "explicit", "1"},
		{"b.example", "podman", "3"},
		{"docker.io", "hub", "5"},
		{"index.docker.io/library/busybox", "hub", "5"},
		{"localhost:5000", "local", "6"},
		{"quay.io/org/app", "org", "8"},
		{"quay.io/other/app", "quay", "7"},
		{"c.example", "plain", "9"},
		{"d.example", "", ""},
	} {
		got := resolve(t, kc, tc.res)
		if got.Username != tc.user || got.Password != tc.pass {
			t.Errorf("%s: got %s:%s, want %s:%s", tc.res, got.Username, got.Password, tc.user, tc.pass)
		}
	}
	// Without the explicit file, podman's wins for a.example.
	if got := resolve(t, NewKeychain(""), "a.example:5000"); got.Username != "podman" {
		t.Errorf("no authfile: got %q, want podman", got.Username)
	}
}

func TestKeychainBadFile(t *testing.T) {
	dir := isolate(t)
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := NewKeychain(bad).Resolve(name.MustParseReference("x.example/a").Context())
	if !errdefs.IsInvalidArgument(err) || !strings.Contains(err.Error(), bad) {
		t.Errorf("want InvalidArgument naming %s, got %v", bad, err)
	}
	writeJSON(t, bad, map[string]any{"auths": map[string]any{"x.example": map[string]string{"auth": "!!"}}})
	if _, err := NewKeychain(bad).Resolve(name.MustParseReference("x.example/a").Context()); !errdefs.IsInvalidArgument(err) {
		t.Errorf("bad base64: want InvalidArgument, got %v", err)
	}
}

func TestHostAndKey(t *testing.T) {
	for in, want := range map[string]string{
		"docker.io": "docker.io", "https://index.docker.io/v1/": "docker.io", "index.docker.io": "docker.io",
		"registry-1.docker.io": "docker.io", "http://localhost:5000/v2/": "localhost:5000", "quay.io": "quay.io",
	} {
		if got := Host(in); got != want {
			t.Errorf("Host(%q) = %q, want %q", in, got, want)
		}
	}
	if Key("docker.io") != "https://index.docker.io/v1/" || Key("https://quay.io") != "quay.io" {
		t.Errorf("Key: %q %q", Key("docker.io"), Key("https://quay.io"))
	}
}

func TestStoreErase(t *testing.T) {
	dir := isolate(t)
	path := filepath.Join(dir, "deep/er/auth.json")
	writeJSON(t, path, map[string]any{
		"psFormat": "table {{.ID}}",
		"auths": map[string]any{
			"other.example":          map[string]string{"auth": "b3RoZXI6cA==", "email": "kept@example.com"},
			"http://localhost:5000/": basic("old", "stale"),
		},
	})
	if err := Store(path, "localhost:5000", "alice", "s3cret"); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode: %v %v", fi, err)
	}
	var got map[string]any
	b, _ := os.ReadFile(path)
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	auths := got["auths"].(map[string]any)
	if got["psFormat"] != "table {{.ID}}" || auths["other.example"].(map[string]any)["email"] != "kept@example.com" {
		t.Errorf("unknown keys lost: %s", b)
	}
	if _, stale := auths["http://localhost:5000/"]; stale || len(auths) != 2 {
		t.Errorf("old spelling kept: %s", b)
	}
	if e := auths["localhost:5000"].(map[string]any)["auth"]; e != base64.StdEncoding.EncodeToString([]byte("alice:s3cret")) {
		t.Errorf("entry: %v", e)
	}
	if c := resolve(t, NewFileKeychain(path), "localhost:5000"); c.Username != "alice" || c.Password != "s3cret" {
		t.Errorf("lookup after Store: %+v", c)
	}

	// docker hub is stored under docker's historical key.
	if err := Store(path, "docker.io", "bob", "pw"); err != nil {
		t.Fatal(err)
	}
	b, _ = os.ReadFile(path)
	if !strings.Contains(string(b), `"https://index.docker.io/v1/"`) {
		t.Errorf("hub key: %s", b)
	}

	if err := Erase(path, "http://localhost:5000"); err != nil {
		t.Fatal(err)
	}
	if c := resolve(t, NewFileKeychain(path), "localhost:5000"); c != (authn.AuthConfig{}) {
		t.Errorf("after Erase: %+v", c)
	}
	err = Erase(path, "localhost:5000")
	if !errdefs.IsNotFound(err) || !strings.Contains(err.Error(), "not logged in to localhost:5000") {
		t.Errorf("second Erase: want NotFound, got %v", err)
	}
	if err := Erase(filepath.Join(dir, "absent.json"), "x.example"); !errdefs.IsNotFound(err) {
		t.Errorf("absent file: want NotFound, got %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "absent.json")); err == nil {
		t.Error("Erase created a file")
	}
	if err := Store(path, "", "u", "p"); !errdefs.IsInvalidArgument(err) {
		t.Errorf("empty host: want InvalidArgument, got %v", err)
	}
	ents, _ := os.ReadDir(filepath.Dir(path))
	if len(ents) != 1 {
		t.Errorf("temporary files left: %v", ents)
	}
}

// Store through DefaultFile creates ~/.docker/config.json.
func TestStoreDefaultFile(t *testing.T) {
	dir := isolate(t)
	if err := Store("", "localhost:5000", "alice", "pw"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "home/.docker/config.json")); err != nil {
		t.Fatal(err)
	}
	if c := resolve(t, NewKeychain(""), "localhost:5000"); c.Username != "alice" {
		t.Errorf("got %+v", c)
	}
}
