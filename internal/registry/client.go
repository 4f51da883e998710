package registry

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"syscall"
	"time"

	"github.com/berth-project/berth/internal/credentials"
	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/reference"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// Options configures a Client. The zero value is usable.
type Options struct {
	// Insecure lists registry hosts ("host:port") reached over plain http
	// or with unverified TLS. localhost, 127.0.0.1 and [::1] (any port)
	// always are, as in docker.
	Insecure []string
	// Registries holds mirrors and insecure flags per registry (see
	// LoadRegistries); nil means none.
	Registries *Registries
	// Keychain finds credentials per registry; nil means
	// credentials.NewKeychain(AuthFile): AuthFile, $REGISTRY_AUTH_FILE,
	// podman's auth.json, docker's config.json, credential helpers.
	Keychain authn.Keychain
	// AuthFile is the credential file searched first (--authfile) when
	// Keychain is nil.
	AuthFile string
	// UserAgent is sent with every request; "berth" when empty.
	UserAgent string
	// Backoff paces retries of transient failures (network errors and
	// 408/429/5xx answers); the zero value means 3 tries, 100 ms then 300 ms.
	Backoff transport.Backoff
	// Transport is the base HTTP transport; nil means http.DefaultTransport.
	// An *http.Transport is cloned, with TLS verification off, for insecure
	// registries.
	Transport http.RoundTripper
}

// Client pulls from and pushes to registries. It is safe for concurrent use.
type Client struct {
	opts         Options
	base         http.RoundTripper // retry and user agent around opts.Transport
	insecureBase http.RoundTripper // the same without TLS verification
	repos        repoCache         // authenticated repos, reused for repoTTL
}

// Limits on documents read into memory.
const (
	MaxManifestSize = 4 << 20
	MaxConfigSize   = 8 << 20
)

var retryCodes = []int{
	http.StatusRequestTimeout, http.StatusTooManyRequests, http.StatusInternalServerError,
	http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout,
}

// New returns a Client configured by opts.
func New(opts Options) *Client {
	if opts.Keychain == nil {
		opts.Keychain = credentials.NewKeychain(opts.AuthFile)
	}
	if opts.UserAgent == "" {
		opts.UserAgent = "berth"
	}
	if opts.Backoff.Steps == 0 {
		opts.Backoff = Backoff(100*time.Millisecond, 3)
	}
	t := opts.Transport
	if t == nil {
		t = http.DefaultTransport
	}
	unverified := t
	if ht, ok := t.(*http.Transport); ok {
		ht = ht.Clone()
		if ht.TLSClientConfig == nil {
			ht.TLSClientConfig = &tls.Config{}
		}
		ht.TLSClientConfig.InsecureSkipVerify = true
		unverified = ht
	}
	wrap := func(t http.RoundTripper) http.RoundTripper {
		t = transport.NewRetry(rewind{t},
			transport.WithRetryBackoff(opts.Backoff),
			transport.WithRetryPredicate(transient),
			transport.WithRetryStatusCodes(retryCodes...))
		return transport.NewUserAgent(t, opts.UserAgent)
	}
	return &Client{opts: opts, base: wrap(t), insecureBase: wrap(unverified)}
}

// rewind gives every attempt of a request with GetBody a fresh body, so
// that a retried or re-authenticated upload sends its bytes again.
type rewind struct{ inner http.RoundTripper }

func (rw rewind) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.GetBody == nil || req.Body == nil || req.Body == http.NoBody {
		return rw.inner.RoundTrip(req)
	}
	body, err := req.GetBody()
	req.Body.Close()
	if err != nil {
		return nil, err
	}
	r := req.Clone(req.Context())
	r.Body = body
	return rw.inner.RoundTrip(r)
}

// transient reports whether a request that failed with err is worth retrying.
func transient(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var te interface{ Temporary() bool }
	if errors.As(err, &te) && te.Temporary() {
		return true
	}
	return errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED)
}

// repo is an authenticated view of one repository.
type repo struct {
	ref    reference.Reference
	reg    name.Registry
	client *http.Client
	key    repoKey // its place in the Client's repoCache
}

// url returns the address of kind ("manifests" or "blobs") named id.
func (r *repo) url(kind, id string) string {
	return fmt.Sprintf("%s://%s/v2/%s/%s/%s", r.reg.Scheme(), r.reg.RegistryStr(), r.ref.Path, kind, id)
}

// The actions a repo is authenticated for.
const (
	pullAction = transport.PullScope
	pushAction = transport.PushScope // push and pull
)

// repo returns a view of ep's repository authenticated for action with the
// credentials the keychain has for it now: the one authenticated with them
// in the last repoTTL, if any (one ping of /v2/ and one token per pull, not
// per blob), or a new one.
func (c *Client) repo(ctx context.Context, ep endpoint, action string) (*repo, error) {
	ref := ep.ref
	var opts []name.Option
	base := c.base
	if ep.insecure {
		opts = append(opts, name.Insecure)
		base = c.insecureBase
	}
	reg, err := name.NewRegistry(ref.Domain, opts...)
	if err != nil {
		return nil, fmt.Errorf("registry %q: %v: %w", ref.Domain, err, errdefs.ErrInvalidArgument)
	}
	auth, err := authn.Resolve(ctx, c.opts.Keychain, reg.Repo(ref.Path))
	if err != nil {
		return nil, fmt.Errorf("credentials for %s: %w", ref.Domain, err)
	}
	creds, err := authn.Authorization(ctx, auth)
	if err != nil {
		return nil, fmt.Errorf("credentials for %s: %w", ref.Domain, err)
	}
	key := repoKey{registry: registryURL(reg), path: ref.Path, action: action, creds: *creds}
	r, err := c.repos.get(ctx, key, func() (*repo, error) {
		return c.authenticate(ctx, reg, base, action, ref, auth)
	})
	if err != nil {
		return nil, err
	}
	// The cached repo may have been made for another tag or digest of
	// the same repository: the copy carries this one.
	cp := *r
	cp.ref, cp.key = ref, key
	return &cp, nil
}

// authenticate pings reg and authenticates with auth for action on ref's
// repository.
func (c *Client) authenticate(ctx context.Context, reg name.Registry, base http.RoundTripper, action string, ref reference.Reference, auth authn.Authenticator) (*repo, error) {
	scope := reg.Repo(ref.Path).Scope(action)
	t, err := transport.NewWithContext(ctx, reg, auth, base, []string{scope})
	if err != nil {
		return nil, classify(ref.Repository(), err)
	}
	return &repo{ref: ref, reg: reg, client: &http.Client{Transport: t}}, nil
}

// registryURL is reg's scheme and host: what a repoKey names.
func registryURL(reg name.Registry) string { return reg.Scheme() + "://" + reg.RegistryStr() }

// Backoff returns a retry schedule of steps tries, the first wait d and each
// next one three times longer.
func Backoff(d time.Duration, steps int) transport.Backoff {
	return transport.Backoff{Duration: d, Factor: 3, Jitter: 0.1, Steps: steps}
}
