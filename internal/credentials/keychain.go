package credentials

import (
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
)

// Keychain is an authn.Keychain over the credential files of Files: the
// first file with credentials for a registry (or repository) gives them;
// none gives anonymous access. It reads the files at every Resolve, so a
// login made meanwhile is seen.
type Keychain struct {
	files []string
}

var _ authn.Keychain = (*Keychain)(nil)

// NewKeychain returns the Keychain over Files(authfile).
func NewKeychain(authfile string) *Keychain {
	return &Keychain{files: Files(authfile)}
}

// NewFileKeychain returns a Keychain over exactly the files given, in order.
func NewFileKeychain(files ...string) *Keychain {
	return &Keychain{files: files}
}

// Resolve implements authn.Keychain. A credential file that cannot be read
// or parsed, or a helper that fails, is an error naming it.
func (k *Keychain) Resolve(target authn.Resource) (authn.Authenticator, error) {
	host := Host(target.RegistryStr())
	repo := host + strings.TrimPrefix(target.String(), target.RegistryStr())
	cfg, _, err := k.lookup(repo, host)
	if err != nil {
		return nil, err
	}
	if cfg == (authn.AuthConfig{}) {
		return authn.Anonymous, nil
	}
	return authn.FromConfig(cfg), nil
}

// lookup returns the credentials for repo on host and the file they came
// from; none is a zero AuthConfig.
func (k *Keychain) lookup(repo, host string) (authn.AuthConfig, string, error) {
	for _, path := range k.files {
		f, err := readAuthFile(path)
		if err != nil {
			return authn.AuthConfig{}, "", err
		}
		if f == nil {
			continue
		}
		cfg, ok, err := f.lookup(path, repo, host)
		if err != nil || ok {
			return cfg, path, err
		}
	}
	return authn.AuthConfig{}, "", nil
}

// lookup finds the credentials for repo on host in f (read from path): its
// credHelpers entry for host, its "auths" entries from the most specific
// key to the host's, then its credsStore.
func (f *authFile) lookup(path, repo, host string) (authn.AuthConfig, bool, error) {
	if name, fromStore := f.helper(host); name != "" && !fromStore {
		return helperGet(name, host)
	}
	for _, key := range scopes(repo) {
		k, ok := f.find(key)
		if !ok {
			continue
		}
		cfg, err := f.Auths[k].config(path, k)
		if err != nil {
			return cfg, false, err
		}
		if cfg != (authn.AuthConfig{}) {
			return cfg, true, nil
		}
	}
	if f.CredsStore != "" {
		return helperGet(f.CredsStore, host)
	}
	return authn.AuthConfig{}, false, nil
}
