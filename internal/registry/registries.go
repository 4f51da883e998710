package registry

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/BurntSushi/toml"
	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/reference"
)

// Registries is the registries configuration: per registry (or repository
// prefix), whether it is insecure and which mirrors to pull from first. Its
// file is TOML, a small subset of containers-registries.conf(5) v2:
//
//	[[registry]]
//	location = "docker.io"          # a host, or host/path prefix
//	insecure = false                # plain http or unverified TLS
//
//	[[registry.mirror]]
//	location = "127.0.0.1:5000/mirror"
//	insecure = true
//
// A pull of docker.io/library/busybox then tries
// 127.0.0.1:5000/mirror/library/busybox first: a mirror's location takes
// the place of the registry's location in the repository name.
type Registries struct {
	Registry []RegistryConfig `toml:"registry"`
}

// RegistryConfig is one [[registry]] table.
type RegistryConfig struct {
	// Location is a registry host ("docker.io", "localhost:5000") or a
	// repository prefix on one ("quay.io/org"). The longest location that
	// matches a reference's repository applies.
	Location string `toml:"location"`
	// Insecure allows plain http and unverified TLS to the registry itself.
	Insecure bool `toml:"insecure"`
	// Mirror lists the mirrors pulls try first, in order.
	Mirror []Mirror `toml:"mirror"`
}

// Mirror is one [[registry.mirror]] table.
type Mirror struct {
	Location string `toml:"location"` // host[/path prefix]
	Insecure bool   `toml:"insecure"`
}

// DefaultRegistriesFile is where root's registries configuration lives.
const DefaultRegistriesFile = "/etc/berth/registries.toml"

// DefaultRegistriesPath returns DefaultRegistriesFile for root and
// ${XDG_CONFIG_HOME:-~/.config}/berth/registries.toml for other users.
func DefaultRegistriesPath() string {
	if os.Geteuid() == 0 {
		return DefaultRegistriesFile
	}
	dir := os.Getenv("XDG_CONFIG_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return DefaultRegistriesFile
		}
		dir = filepath.Join(home, ".config")
	}
	return filepath.Join(dir, "berth", "registries.toml")
}

// LoadRegistries reads the registries configuration at path. An empty path
// means DefaultRegistriesPath(), whose absence is an empty configuration;
// a path given and absent is NotFound. Unknown keys, locations that are not
// host[/path] and a location listed twice are InvalidArgument errors naming
// the file.
func LoadRegistries(path string) (*Registries, error) {
	explicit := path != ""
	if !explicit {
		path = DefaultRegistriesPath()
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		if explicit {
			return nil, fmt.Errorf("registries configuration %s: %w", path, errdefs.ErrNotFound)
		}
		return &Registries{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("registries configuration %s: %w", path, err)
	}
	regs, err := ParseRegistries(b)
	if err != nil {
		return nil, fmt.Errorf("registries configuration %s: %w", path, err)
	}
	return regs, nil
}

// ParseRegistries parses and checks a registries configuration.
func ParseRegistries(b []byte) (*Registries, error) {
	var regs Registries
	md, err := toml.NewDecoder(bytes.NewReader(b)).Decode(&regs)
	if err != nil {
		return nil, fmt.Errorf("%v: %w", err, errdefs.ErrInvalidArgument)
	}
	if und := md.Undecoded(); len(und) > 0 {
		return nil, fmt.Errorf("unknown key %q: %w", und[0].String(), errdefs.ErrInvalidArgument)
	}
	seen := map[string]bool{}
	for i, r := range regs.Registry {
		loc, err := checkLocation(r.Location)
		if err != nil {
			return nil, fmt.Errorf("registry %d: %w", i+1, err)
		}
		if seen[loc] {
			return nil, fmt.Errorf("registry %q listed twice: %w", loc, errdefs.ErrInvalidArgument)
		}
		seen[loc] = true
		regs.Registry[i].Location = loc
		for j, m := range r.Mirror {
			if regs.Registry[i].Mirror[j].Location, err = checkLocation(m.Location); err != nil {
				return nil, fmt.Errorf("registry %q: mirror %d: %w", loc, j+1, err)
			}
		}
	}
	return &regs, nil
}

// checkLocation normalises host[/path] ("index.docker.io" becomes
// "docker.io", as in references) and refuses anything else.
func checkLocation(loc string) (string, error) {
	bad := func() (string, error) {
		return "", fmt.Errorf("location %q: want host[:port][/path]: %w", loc, errdefs.ErrInvalidArgument)
	}
	loc = strings.TrimSuffix(loc, "/")
	if loc == "" || strings.Contains(loc, "://") {
		return bad()
	}
	host, path, _ := strings.Cut(loc, "/")
	if host == "index.docker.io" || host == "registry-1.docker.io" {
		host = "docker.io"
	}
	if !strings.ContainsAny(host, ".:") && host != "localhost" {
		return bad() // "library/busybox" is not a location
	}
	probe := host + "/x"
	if path != "" {
		probe = host + "/" + path
	}
	if r, err := reference.Parse(probe); err != nil || r.Domain != host {
		return bad()
	}
	if path == "" {
		return host, nil
	}
	return host + "/" + path, nil
}

// lookup returns the configuration whose location matches repository
// (host/path) the longest, or nil.
func (regs *Registries) lookup(repository string) *RegistryConfig {
	if regs == nil {
		return nil
	}
	var best *RegistryConfig
	for i, r := range regs.Registry {
		if (repository == r.Location || strings.HasPrefix(repository, r.Location+"/")) &&
			(best == nil || len(r.Location) > len(best.Location)) {
			best = &regs.Registry[i]
		}
	}
	return best
}
