package credentials

import (
	"os"
	"path/filepath"
	"slices"
)

// Files returns the credential files to search, in order, with authfile (if
// not empty) first. Files that do not exist are listed too; the Keychain
// skips them.
func Files(authfile string) []string {
	var files []string
	add := func(p string) {
		if p != "" && !slices.Contains(files, filepath.Clean(p)) {
			files = append(files, filepath.Clean(p))
		}
	}
	add(authfile)
	add(os.Getenv("REGISTRY_AUTH_FILE"))
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" {
		add(filepath.Join(d, "containers", "auth.json"))
	}
	if d := configHome(); d != "" {
		add(filepath.Join(d, "containers", "auth.json"))
	}
	add(DefaultFile())
	return files
}

// DefaultFile is the file Store and Erase change unless given another:
// docker's, $DOCKER_CONFIG/config.json or else ~/.docker/config.json, so that
// a login is seen by docker, podman (which reads docker's file too) and Berth
// alike. It is empty when neither $DOCKER_CONFIG nor a home directory is
// known.
func DefaultFile() string {
	if d := os.Getenv("DOCKER_CONFIG"); d != "" {
		return filepath.Join(d, "config.json")
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".docker", "config.json")
	}
	return ""
}

// configHome is $XDG_CONFIG_HOME, else ~/.config.
func configHome() string {
	if d := os.Getenv("XDG_CONFIG_HOME"); d != "" {
		return d
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".config")
	}
	return ""
}
