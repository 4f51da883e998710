package credentials

import (
	"fmt"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/docker/docker-credential-helpers/client"
	helpercreds "github.com/docker/docker-credential-helpers/credentials"
	"github.com/google/go-containerregistry/pkg/authn"
)

// tokenUser is the user name a helper stores with an identity token.
const tokenUser = "<token>"

// program runs docker-credential-<name> from $PATH.
func program(name string) client.ProgramFunc {
	return client.NewShellProgramFunc("docker-credential-" + name)
}

// helperGet asks helper name for host's credentials; ok is false when it
// has none.
func helperGet(name, host string) (cfg authn.AuthConfig, ok bool, err error) {
	c, err := client.Get(program(name), Key(host))
	if helpercreds.IsErrCredentialsNotFound(err) {
		return cfg, false, nil
	}
	if err != nil {
		return cfg, false, fmt.Errorf("credential helper docker-credential-%s for %s: %v: %w", name, host, err, errdefs.ErrFailedPrecondition)
	}
	if c.Username == tokenUser {
		return authn.AuthConfig{IdentityToken: c.Secret}, true, nil
	}
	return authn.AuthConfig{Username: c.Username, Password: c.Secret}, c.Username != "" || c.Secret != "", nil
}

// helperStore hands host's credentials to helper name.
func helperStore(name, host, user, password string) error {
	err := client.Store(program(name), &helpercreds.Credentials{ServerURL: Key(host), Username: user, Secret: password})
	if err != nil {
		return fmt.Errorf("credential helper docker-credential-%s: store %s: %v: %w", name, host, err, errdefs.ErrFailedPrecondition)
	}
	return nil
}

// helperErase asks helper name to forget host; found is false when it
// had nothing for it.
func helperErase(name, host string) (found bool, err error) {
	if _, ok, err := helperGet(name, host); err != nil || !ok {
		return false, err
	}
	if err := client.Erase(program(name), Key(host)); err != nil {
		return true, fmt.Errorf("credential helper docker-credential-%s: erase %s: %v: %w", name, host, err, errdefs.ErrFailedPrecondition)
	}
	return true, nil
}
