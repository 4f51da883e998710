package registry

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-project/berth/internal/errdefs"
)

func TestLoadRegistries(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "registries.toml")
	conf := `
[[registry]]
location = "index.docker.io"

[[registry.mirror]]
location = "127.0.0.1:5000/mirror"
insecure = true

[[registry.mirror]]
location = "mirror.example"

[[registry]]
location = "quay.io/org"
insecure = true
`
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	regs, err := LoadRegistries(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(regs.Registry) != 2 || regs.Registry[0].Location != "docker.io" || len(regs.Registry[0].Mirror) != 2 ||
		regs.Registry[0].Mirror[0] != (Mirror{Location: "127.0.0.1:5000/mirror", Insecure: true}) || !regs.Registry[1].Insecure {
		t.Errorf("parsed %+v", regs)
	}
	for repo, want := range map[string]string{
		"docker.io/library/busybox": "docker.io", "quay.io/org/app": "quay.io/org", "quay.io/other/app": "", "quay.io/organ/app": "",
	} {
		got := regs.lookup(repo)
		if (got == nil && want != "") || (got != nil && got.Location != want) {
			t.Errorf("lookup(%s) = %+v, want %q", repo, got, want)
		}
	}

	for name, bad := range map[string]string{
		"unknown key": "[[registry]]\nlocation = \"a.example\"\nblocked = true\n",
		"scheme":      "[[registry]]\nlocation = \"https://a.example\"\n",
		"no host":     "[[registry]]\nlocation = \"library/busybox\"\n",
		"empty":       "[[registry]]\ninsecure = true\n",
		"twice":       "[[registry]]\nlocation = \"a.example\"\n[[registry]]\nlocation = \"a.example\"\n",
		"bad mirror":  "[[registry]]\nlocation = \"a.example\"\n[[registry.mirror]]\nlocation = \"UPPER.example/Repo\"\n",
		"not toml":    "[[registry]\n",
	} {
		if err := os.WriteFile(path, []byte(bad), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadRegistries(path); !errdefs.IsInvalidArgument(err) || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: want InvalidArgument naming the file, got %v", name, err)
		}
	}
	if _, err := LoadRegistries(filepath.Join(dir, "absent.toml")); !errdefs.IsNotFound(err) {
		t.Errorf("absent explicit file: want NotFound, got %v", err)
	}
}

func TestDefaultRegistriesPath(t *testing.T) {
	want := DefaultRegistriesFile
	if os.Geteuid() != 0 {
		t.Setenv("XDG_CONFIG_HOME", "/x")
		want = "/x/berth/registries.toml"
	}
	if got := DefaultRegistriesPath(); got != want {
		t.Errorf("DefaultRegistriesPath() = %s, want %s", got, want)
	}
}
