package reference

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/opencontainers/go-digest"
)

// The grammar itself is github.com/distribution/reference's; these rules only
// let Parse say in plain words what is wrong with the commonest bad inputs.
const (
	tagRule = "a tag is 1-128 characters of [A-Za-z0-9_.-], not starting with '.' or '-'"
)

var tagRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)

// explain returns why s is not a valid reference when it can tell simply, or ""
// to leave the verdict to the full grammar.
func explain(s string) string {
	if s == "" {
		return "empty reference"
	}
	if strings.TrimSpace(s) != s || strings.ContainsAny(s, " \t\r\n") {
		return "contains white space"
	}
	name, dgst, hasDigest := strings.Cut(s, "@")
	if hasDigest {
		if strings.Contains(dgst, "@") {
			return "more than one '@'"
		}
		// Pinned so that linking crypto/sha512 elsewhere cannot widen it: the
		// content store addresses blobs by sha256.
		if alg, _, ok := strings.Cut(dgst, ":"); ok && alg != string(digest.SHA256) {
			return "digest " + strconv.Quote(dgst) + ": only sha256 is supported, not " + strconv.Quote(alg)
		}
		if err := digest.Digest(dgst).Validate(); err != nil {
			return "digest " + strconv.Quote(dgst) + ": " + err.Error() + " (want sha256:<64 lowercase hex>)"
		}
	}
	repo := name
	if i := strings.LastIndex(name, ":"); i > strings.LastIndex(name, "/") {
		repo = name[:i]
		if tag := name[i+1:]; !tagRE.MatchString(tag) {
			return "tag " + strconv.Quote(tag) + ": " + tagRule
		}
	}
	if repo == "" {
		return "empty repository name"
	}
	path := repo
	if first, rest, ok := strings.Cut(repo, "/"); ok && (strings.ContainsAny(first, ".:") || first == "localhost") {
		path = rest
	}
	if strings.ToLower(path) != path {
		return "repository name " + strconv.Quote(path) + " must be lowercase"
	}
	return ""
}
