// Package reference turns the image name a user types into a fully qualified,
// normalised image reference: the first stage of `berth run IMAGE CMD`.
//
// Normalisation follows Docker's rules, using github.com/distribution/reference
// for the grammar:
//
//	busybox                        → docker.io/library/busybox:latest
//	alice/app:1.0                  → docker.io/alice/app:1.0
//	index.docker.io/busybox        → docker.io/library/busybox:latest
//	localhost:5000/x               → localhost:5000/x:latest
//	[::1]:5000/x@sha256:<64 hex>   → [::1]:5000/x@sha256:<64 hex>
//	busybox:1.36@sha256:<64 hex>   → docker.io/library/busybox:1.36@sha256:<64 hex>
//
// A reference that has both a tag and a digest keeps both; the digest is what
// is fetched (see [Reference.FetchRef]) and the tag is informational.
package reference

import (
	"fmt"

	distref "github.com/distribution/reference"
	"github.com/opencontainers/go-digest"

	"github.com/berth-project/berth/internal/errdefs"
)

// DefaultTag is the tag given to a reference that names neither a tag nor a digest.
const DefaultTag = "latest"

// Reference is a normalised image reference. Values returned by [Parse] always
// have Domain and Path set, and at least one of Tag and Digest.
type Reference struct {
	Domain string        // registry host, with port if any: "docker.io", "localhost:5000", "[::1]:5000"
	Path   string        // repository path within the registry: "library/busybox"
	Tag    string        // "latest"; empty when only a digest was given
	Digest digest.Digest // "sha256:…"; empty unless given
}

// Parse normalises s, as docker does, into a [Reference]. A reference without a
// tag or digest gets the tag [DefaultTag]. An invalid s gives an error of class
// errdefs.ErrInvalidArgument naming s and saying what is wrong with it.
//
// Parse is stricter than docker in two places: a digest must be sha256 (the
// content store's only algorithm), and an uppercase first component without
// '.' or ':' ("Alice/app") is refused as not lowercase rather than taken for a
// registry host.
func Parse(s string) (Reference, error) {
	if reason := explain(s); reason != "" {
		return Reference{}, fmt.Errorf("reference %q: %s: %w", s, reason, errdefs.ErrInvalidArgument)
	}
	named, err := distref.ParseNormalizedNamed(s)
	if err != nil {
		return Reference{}, fmt.Errorf("reference %q: %w: %w", s, err, errdefs.ErrInvalidArgument)
	}
	r := Reference{Domain: distref.Domain(named), Path: distref.Path(named)}
	if t, ok := named.(distref.Tagged); ok {
		r.Tag = t.Tag()
	}
	if d, ok := named.(distref.Digested); ok {
		r.Digest = d.Digest()
	}
	if r.Tag == "" && r.Digest == "" {
		r.Tag = DefaultTag
	}
	return r, nil
}

// Repository returns the fully qualified repository name, without tag or
// digest: "docker.io/library/busybox".
func (r Reference) Repository() string {
	if r.Domain == "" {
		return r.Path
	}
	return r.Domain + "/" + r.Path
}

// String returns the full form, "docker.io/library/busybox:latest", with
// "@digest" appended when there is a digest. Parse(r.String()) gives r back.
func (r Reference) String() string {
	return r.Repository() + r.suffix()
}

// suffix is ":tag", "@digest", ":tag@digest" or "".
func (r Reference) suffix() string {
	s := ""
	if r.Tag != "" {
		s += ":" + r.Tag
	}
	if r.Digest != "" {
		s += "@" + r.Digest.String()
	}
	return s
}

// IsDigested reports whether r names its content by digest.
func (r Reference) IsDigested() bool { return r.Digest != "" }

// FetchRef returns what to ask the registry for: "repository@digest" when r
// has a digest (the digest wins over a tag), else "repository:tag".
func (r Reference) FetchRef() string {
	if r.IsDigested() {
		return r.Repository() + "@" + r.Digest.String()
	}
	return r.Repository() + ":" + r.Tag
}

// WithTag returns r with its tag replaced by tag. As in docker, a digest is
// kept; clear the Digest field to drop it. An invalid tag gives an error of
// class errdefs.ErrInvalidArgument.
func (r Reference) WithTag(tag string) (Reference, error) {
	if !tagRE.MatchString(tag) {
		return Reference{}, fmt.Errorf("tag %q for %s: %s: %w", tag, r.Repository(), tagRule, errdefs.ErrInvalidArgument)
	}
	r.Tag = tag
	return r, nil
}
