package registry

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/berth-project/berth/internal/credentials"
	"github.com/berth-project/berth/internal/errdefs"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// Login checks user and password against registry (a host as typed:
// "docker.io", "https://index.docker.io/v1/", "localhost:5000") and, if
// the registry accepts them, stores them in authfile as `docker login`
// does (see credentials.Store; "" means credentials.DefaultFile(), docker's
// config.json, so that docker and podman see the login too).
//
// The check is GET /v2/ after the registry's auth challenge: a token
// without scope for a Bearer challenge, the password itself for Basic. A
// refusal is a FailedPrecondition error "login to <registry>: unauthorized:
// …"; an unreachable registry is Unavailable.
func (c *Client) Login(ctx context.Context, registry, user, password, authfile string) error {
	host := credentials.Host(registry)
	what := "login to " + host
	if host == "" || user == "" {
		return fmt.Errorf("%s: registry and user name are required: %w", what, errdefs.ErrInvalidArgument)
	}
	opts, base := []name.Option(nil), c.base
	if cfg := c.opts.Registries.lookup(host); c.insecure(host) || (cfg != nil && cfg.Insecure) {
		opts, base = append(opts, name.Insecure), c.insecureBase
	}
	reg, err := name.NewRegistry(host, opts...)
	if err != nil {
		return fmt.Errorf("%s: %v: %w", what, err, errdefs.ErrInvalidArgument)
	}
	auth := authn.FromConfig(authn.AuthConfig{Username: user, Password: password})
	t, err := transport.NewWithContext(ctx, reg, auth, base, nil)
	if err != nil {
		return loginError(what, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s://%s/v2/", reg.Scheme(), reg.RegistryStr()), nil)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	resp, err := (&http.Client{Transport: t}).Do(req)
	if err != nil {
		return loginError(what, err)
	}
	defer resp.Body.Close()
	if err := transport.CheckError(resp, http.StatusOK); err != nil {
		return loginError(what, err)
	}
	return credentials.Store(authfile, host, user, password)
}

// Logout removes the credentials for registry from authfile ("" means
// credentials.DefaultFile()) and from its credential helper, if it names
// one. Not being logged in is a NotFound error "not logged in to
// <registry>".
func Logout(registry, authfile string) error {
	return credentials.Erase(authfile, registry)
}

// loginError words a refusal as such, and classes every error.
func loginError(what string, err error) error {
	var terr *transport.Error
	if errors.As(err, &terr) && (terr.StatusCode == http.StatusUnauthorized || terr.StatusCode == http.StatusForbidden) {
		return fmt.Errorf("%s: unauthorized: %w: %w", what, errdefs.ErrFailedPrecondition, err)
	}
	return classify(what, err)
}
