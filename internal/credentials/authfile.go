package credentials

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/google/go-containerregistry/pkg/authn"
)

// authFile is what Berth reads of a credential file.
type authFile struct {
	Auths       map[string]entry  `json:"auths"`
	CredHelpers map[string]string `json:"credHelpers"`
	CredsStore  string            `json:"credsStore"`
}

// entry is one "auths" entry.
type entry struct {
	Auth          string `json:"auth,omitempty"` // base64 of "user:password"
	Username      string `json:"username,omitempty"`
	Password      string `json:"password,omitempty"`
	IdentityToken string `json:"identitytoken,omitempty"`
	RegistryToken string `json:"registrytoken,omitempty"`
}

// readAuthFile reads path; a file that does not exist reads as nil.
func readAuthFile(path string) (*authFile, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("credential file %s: %w", path, err)
	}
	var f authFile
	if len(strings.TrimSpace(string(b))) == 0 {
		return &f, nil
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("credential file %s: %v: %w", path, err, errdefs.ErrInvalidArgument)
	}
	return &f, nil
}

// Host normalises a registry as a user types it or a file keys it: the
// scheme and any path are dropped, and docker hub's names become
// "docker.io". "https://index.docker.io/v1/" → "docker.io";
// "http://localhost:5000/v2/" → "localhost:5000".
func Host(s string) string {
	if _, rest, ok := strings.Cut(s, "://"); ok {
		s = rest
	}
	s, _, _ = strings.Cut(s, "/")
	return hubAlias(s)
}

// hubAlias maps docker hub's host names to "docker.io".
func hubAlias(host string) string {
	switch host {
	case "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com":
		return "docker.io"
	}
	return host
}

// Key returns the key docker uses for host in a file and with a helper:
// "https://index.docker.io/v1/" for docker hub, the host itself otherwise.
func Key(host string) string {
	if h := Host(host); h == "docker.io" {
		return authn.DefaultAuthKey
	}
	return Host(host)
}

// normKey normalises an "auths" key: a URL ("https://host/v1/") becomes its
// host; a key without a scheme keeps its repository path ("quay.io/org"),
// except docker's API version paths.
func normKey(k string) string {
	if strings.Contains(k, "://") {
		return Host(k)
	}
	host, path, _ := strings.Cut(strings.TrimSuffix(k, "/"), "/")
	if path == "" || path == "v1" || path == "v2" {
		return hubAlias(host)
	}
	return hubAlias(host) + "/" + path
}

// scopes returns the keys to try for repository repo (host/path), most
// specific first: "quay.io/org/app", "quay.io/org", "quay.io".
func scopes(repo string) []string {
	var keys []string
	for k := repo; ; {
		keys = append(keys, k)
		i := strings.LastIndexByte(k, '/')
		if i < 0 {
			return keys
		}
		k = k[:i]
	}
}

// find returns the "auths" key of f that serves key (normalised), if any.
func (f *authFile) find(key string) (string, bool) {
	for k := range f.Auths {
		if normKey(k) == key {
			return k, true
		}
	}
	return "", false
}

// helper returns the helper f names for host: its credHelpers entry, else
// the credsStore. fromStore tells which.
func (f *authFile) helper(host string) (name string, fromStore bool) {
	for k, h := range f.CredHelpers {
		if Host(k) == host && h != "" {
			return h, false
		}
	}
	return f.CredsStore, f.CredsStore != ""
}

// config turns an entry into credentials; path names the file in errors.
func (e entry) config(path, key string) (authn.AuthConfig, error) {
	cfg := authn.AuthConfig{Username: e.Username, Password: e.Password,
		IdentityToken: e.IdentityToken, RegistryToken: e.RegistryToken}
	if e.Auth != "" {
		b, err := base64.StdEncoding.DecodeString(e.Auth)
		if err != nil {
			return cfg, fmt.Errorf("credential file %s: %q: auth is not base64: %w", path, key, errdefs.ErrInvalidArgument)
		}
		user, pass, ok := strings.Cut(string(b), ":")
		if !ok {
			return cfg, fmt.Errorf("credential file %s: %q: auth is not user:password: %w", path, key, errdefs.ErrInvalidArgument)
		}
		cfg.Username, cfg.Password = user, pass
	}
	return cfg, nil
}
