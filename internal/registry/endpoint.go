package registry

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/reference"
)

// endpoint is one place to fetch a reference from: a mirror or the
// registry itself, with the reference rewritten for it.
type endpoint struct {
	ref      reference.Reference
	insecure bool
	mirror   bool
}

// endpoints returns where to pull ref from, in order: the mirrors of the
// configuration that matches it, then its own registry.
func (c *Client) endpoints(ref reference.Reference) []endpoint {
	var eps []endpoint
	repository := ref.Repository()
	if cfg := c.opts.Registries.lookup(repository); cfg != nil {
		rest := strings.TrimPrefix(repository, cfg.Location) // "" or "/path"
		for _, m := range cfg.Mirror {
			host, prefix, _ := strings.Cut(m.Location, "/")
			mref := ref
			mref.Domain = host
			mref.Path = strings.TrimPrefix(prefix+rest, "/")
			eps = append(eps, endpoint{ref: mref, insecure: m.Insecure || c.insecure(host), mirror: true})
		}
	}
	return append(eps, c.upstream(ref))
}

// upstream is ref's own registry: where pushes go.
func (c *Client) upstream(ref reference.Reference) endpoint {
	ep := endpoint{ref: ref, insecure: c.insecure(ref.Domain)}
	if cfg := c.opts.Registries.lookup(ref.Repository()); cfg != nil && cfg.Insecure {
		ep.insecure = true
	}
	return ep
}

// insecure reports whether host is listed in Options.Insecure or is a
// loopback address, which is always reached without TLS checks.
func (c *Client) insecure(host string) bool {
	if slices.Contains(c.opts.Insecure, host) {
		return true
	}
	h := host
	if hh, _, err := net.SplitHostPort(host); err == nil {
		h = hh
	}
	h = strings.Trim(h, "[]")
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// fallback reports whether a pull that failed with err at a mirror should
// go on to the next endpoint: the content is not there (NotFound) or the
// mirror cannot be reached (Unavailable, after retries). A digest or size
// mismatch, a bad document or refused credentials stop the pull.
func fallback(err error) bool {
	return errdefs.IsNotFound(err) || errors.Is(err, errdefs.ErrUnavailable)
}

// pull runs fn against each mirror of ref in turn, then against ref's
// registry, until one succeeds or fails for a reason other than fallback.
// The registry's error says what the mirrors answered before it.
func (c *Client) pull(ctx context.Context, ref reference.Reference, fn func(r *repo) error) error {
	try := func(ep endpoint) error {
		r, err := c.repo(ctx, ep, pullAction)
		if err != nil {
			return err
		}
		err = fn(r)
		if errdefs.IsFailedPrecondition(err) { // 401/403: credentials may have changed
			c.repos.forget(r.key, r)
		}
		return err
	}
	eps := c.endpoints(ref)
	var tried []string
	for _, ep := range eps[:len(eps)-1] {
		err := try(ep)
		if err == nil || !fallback(err) || ctx.Err() != nil {
			return err
		}
		tried = append(tried, err.Error())
	}
	err := try(eps[len(eps)-1])
	if err != nil && len(tried) > 0 {
		return fmt.Errorf("%w (after mirrors: %s)", err, strings.Join(tried, "; "))
	}
	return err
}
