package registry

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
)

// repoTTL is how long a Client reuses an authenticated repo. Within it, the
// requests of a pull (manifest, config, every layer) share one ping of /v2/
// and one token instead of making their own. The cache is keyed by the
// credentials the keychain answers at each request, so a login or logout
// takes effect at once; expired tokens need no TTL either (the transport
// fetches a new one when the registry challenges a request). The TTL bounds
// how long a ping's answer (scheme, auth kind) is trusted.
const repoTTL = time.Minute

// repoKey names what a repo is authenticated for, and with what.
type repoKey struct {
	registry string           // scheme://host[:port], as pinged
	path     string           // the repository's path
	action   string           // pullAction or pushAction
	creds    authn.AuthConfig // the keychain's answer (empty: anonymous)
}

// repoEntry is one cached repo, or the authentication in progress for it.
type repoEntry struct {
	ready chan struct{} // closed when r or err is set (under repoCache.mu)
	r     *repo
	err   error
	at    time.Time // when the authentication began
}

// repoCache holds a Client's authenticated repos. Concurrent callers
// asking for the same key while it is being authenticated wait for that
// one authentication instead of starting their own; a failed
// authentication is not kept.
type repoCache struct {
	mu      sync.Mutex
	entries map[repoKey]*repoEntry
}

// get returns the repo cached for key, or the one auth makes, which it
// then caches for repoTTL. A caller that waited for another's
// authentication and saw it end with that caller's context cancelled
// tries again itself.
func (rc *repoCache) get(ctx context.Context, key repoKey, auth func() (*repo, error)) (*repo, error) {
	for {
		now := time.Now()
		rc.mu.Lock()
		e := rc.entries[key]
		if e != nil && now.Sub(e.at) < repoTTL {
			rc.mu.Unlock()
			select {
			case <-e.ready:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			if e.err != nil && ctx.Err() == nil &&
				(errors.Is(e.err, context.Canceled) || errors.Is(e.err, context.DeadlineExceeded)) {
				continue
			}
			return e.r, e.err
		}
		e = &repoEntry{ready: make(chan struct{}), at: now}
		if rc.entries == nil {
			rc.entries = map[repoKey]*repoEntry{}
		}
		for k, old := range rc.entries { // expired ones, so the map stays small
			if now.Sub(old.at) >= repoTTL {
				delete(rc.entries, k)
			}
		}
		rc.entries[key] = e
		rc.mu.Unlock()

		r, err := auth()
		rc.mu.Lock()
		e.r, e.err = r, err
		if err != nil && rc.entries[key] == e {
			delete(rc.entries, key)
		}
		rc.mu.Unlock()
		close(e.ready)
		return r, err
	}
}

// forget drops the repo cached for key if it is r's (same HTTP client), so
// that the next request authenticates again: the registry refused r's
// credentials.
func (rc *repoCache) forget(key repoKey, r *repo) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if e := rc.entries[key]; e != nil && e.r != nil && e.r.client == r.client {
		delete(rc.entries, key)
	}
}
