package registry

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/reference"
)

// maxTagPages bounds how many pages of a tag list are followed.
const maxTagPages = 1000

// Tags lists the tags of ref's repository (its tag and digest are
// ignored), following the registry's pagination (Link: <…>; rel="next").
func (c *Client) Tags(ctx context.Context, ref reference.Reference) ([]string, error) {
	var tags []string
	err := c.pull(ctx, ref, func(r *repo) error {
		tags = tags[:0]
		next := fmt.Sprintf("%s://%s/v2/%s/tags/list", r.reg.Scheme(), r.reg.RegistryStr(), r.ref.Path)
		for page := 0; next != ""; page++ {
			if page == maxTagPages {
				return fmt.Errorf("tags of %s: more than %d pages: %w", r.ref.Repository(), maxTagPages, errdefs.ErrInvalidArgument)
			}
			var err error
			var batch []string
			if batch, next, err = r.tagPage(ctx, next); err != nil {
				return err
			}
			tags = append(tags, batch...)
		}
		return nil
	})
	return tags, err
}

// tagPage fetches one page of a tag list and the address of the next.
func (r *repo) tagPage(ctx context.Context, addr string) ([]string, string, error) {
	what := "tags of " + r.ref.Repository()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, addr, nil)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", what, err)
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return nil, "", classify(what, err)
	}
	defer resp.Body.Close()
	if err := statusError(what, resp, http.StatusOK); err != nil {
		return nil, "", err
	}
	b, err := readLimited(resp.Body, MaxManifestSize)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", what, err)
	}
	var list struct {
		Tags []string `json:"tags"`
	}
	if err := json.Unmarshal(b, &list); err != nil {
		return nil, "", fmt.Errorf("%s: %v: %w", what, err, errdefs.ErrInvalidArgument)
	}
	next := ""
	if l := resp.Header.Get("Link"); l != "" {
		if n, ok := nextLink(l); ok {
			base, _ := url.Parse(addr)
			if u, err := base.Parse(n); err == nil && u.Host == base.Host {
				next = u.String()
			}
		}
	}
	return list.Tags, next, nil
}

// nextLink extracts the rel="next" target of an RFC 8288 Link header
// (`<url>; rel="next"`), the one form registries send.
func nextLink(h string) (string, bool) {
	target, params, ok := strings.Cut(strings.TrimSpace(h), ">")
	if !ok || !strings.HasPrefix(target, "<") || !strings.Contains(params, `rel="next"`) {
		return "", false
	}
	return target[1:], true
}
