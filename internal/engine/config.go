package engine

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/BurntSushi/toml"

	"github.com/berth-project/berth/internal/errdefs"
)

// DefaultConfigFile is the engine's settings file (rootless:
// ~/.config/berth/berth.toml).
const DefaultConfigFile = "/etc/berth/berth.toml"

// Settings are the engine's settings file:
//
//	[engine]
//	runtime = "runc"                  # the default OCI runtime (berth-runtime)
//
//	[runtimes]                        # OCI runtimes by name, for --runtime NAME
//	runc = "/usr/sbin/runc"
//	berth-debug = "/opt/berth/bin/berth-runtime"
type Settings struct {
	Engine struct {
		Runtime string `toml:"runtime"`
	} `toml:"engine"`
	Runtimes map[string]string `toml:"runtimes"`
}

// DefaultConfigPath is where the settings are read when no path is given.
func DefaultConfigPath() string {
	if os.Geteuid() == 0 {
		return DefaultConfigFile
	}
	dir := os.Getenv("XDG_CONFIG_HOME")
	if dir == "" {
		home, _ := os.UserHomeDir()
		dir = filepath.Join(home, ".config")
	}
	return filepath.Join(dir, "berth", "berth.toml")
}

// LoadSettings reads the settings at path ("" means the default path,
// whose absence is no error; a named file must exist).
func LoadSettings(path string) (Settings, error) {
	var s Settings
	explicit := path != ""
	if !explicit {
		path = DefaultConfigPath()
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) && !explicit {
		return s, nil
	}
	if err != nil {
		return s, fmt.Errorf("settings %s: %w", path, err)
	}
	md, err := toml.Decode(string(b), &s)
	if err != nil {
		return s, fmt.Errorf("settings %s: %v: %w", path, err, errdefs.ErrInvalidArgument)
	}
	if undecoded := md.Undecoded(); len(undecoded) > 0 {
		keys := make([]string, len(undecoded))
		for i, k := range undecoded {
			keys[i] = k.String()
		}
		sort.Strings(keys)
		return s, fmt.Errorf("settings %s: unknown keys %v: %w", path, keys, errdefs.ErrInvalidArgument)
	}
	for name, p := range s.Runtimes {
		if !filepath.IsAbs(p) {
			return s, fmt.Errorf("settings %s: runtime %q: %q is not an absolute path: %w", path, name, p, errdefs.ErrInvalidArgument)
		}
	}
	return s, nil
}
