package registry

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/berth-project/berth/internal/content"
	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/reference"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
)

// tokenRegistry is go-containerregistry's registry behind docker's token
// auth: every /v2/ request needs a bearer token whose scopes cover it, and
// the token endpoint (/token, same host) issues one for the right basic
// credentials only.
type tokenRegistry struct {
	host       string
	user, pass string
	mu         sync.Mutex
	tokens     map[string][]string // token → granted scopes
}

func newTokenRegistry(t *testing.T, user, pass string) *tokenRegistry {
	t.Helper()
	tr := &tokenRegistry{user: user, pass: pass, tokens: map[string][]string{}}
	reg := ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0)))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/token" {
			tr.issue(w, r)
			return
		}
		need := scopeOf(r)
		if !tr.allowed(r.Header.Get("Authorization"), need) {
			challenge := fmt.Sprintf(`Bearer realm="http://%s/token",service="berth-test"`, r.Host)
			if need != "" {
				challenge += fmt.Sprintf(`,scope="%s"`, need)
			}
			w.Header().Set("WWW-Authenticate", challenge)
			http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"token required"}]}`, http.StatusUnauthorized)
			return
		}
		reg.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	tr.host = strings.TrimPrefix(srv.URL, "http://")
	return tr
}

// scopeOf returns the scope a request needs ("" for /v2/ itself).
func scopeOf(r *http.Request) string {
	p := strings.TrimPrefix(r.URL.Path, "/v2/")
	for _, kind := range []string{"/manifests/", "/blobs/"} {
		if repo, _, ok := strings.Cut(p, kind); ok {
			action := "push"
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				action = "pull"
			}
			return "repository:" + repo + ":" + action
		}
	}
	return ""
}

// issue answers a token request: basic credentials required, the scopes
// asked for granted.
func (tr *tokenRegistry) issue(w http.ResponseWriter, r *http.Request) {
	u, p, ok := r.BasicAuth()
	if !ok || u != tr.user || p != tr.pass || r.URL.Query().Get("service") != "berth-test" {
		http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"bad credentials"}]}`, http.StatusUnauthorized)
		return
	}
	var granted []string
	for _, s := range r.URL.Query()["scope"] {
		granted = append(granted, strings.Fields(s)...)
	}
	b := make([]byte, 16)
	rand.Read(b)
	tok := hex.EncodeToString(b)
	tr.mu.Lock()
	tr.tokens[tok] = granted
	tr.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]string{"token": tok})
}

// allowed reports whether the Authorization header carries a token granted
// need (any token will do for "").
func (tr *tokenRegistry) allowed(authz, need string) bool {
	tok, ok := strings.CutPrefix(authz, "Bearer ")
	tr.mu.Lock()
	granted, known := tr.tokens[tok]
	tr.mu.Unlock()
	if !ok || !known {
		return false
	}
	if need == "" {
		return true
	}
	i := strings.LastIndexByte(need, ':')
	resource, action := need[:i], need[i+1:]
	for _, g := range granted {
		j := strings.LastIndexByte(g, ':')
		if j > 0 && g[:j] == resource && slices.Contains(strings.Split(g[j+1:], ","), action) {
			return true
		}
	}
	return false
}

// go-containerregistry's transport speaks token auth: pulls and pushes
// work with the right credentials and fail, naming the registry, without.
func TestTokenAuth(t *testing.T) {
	tr := newTokenRegistry(t, "berth", "s3cret")
	ctx := context.Background()
	cs := must(content.Open(t.TempDir()))
	desc := storeImage(t, cs, must(random.Image(1024, 2)))
	ref := must(parseRef(tr.host + "/team/app:v1"))

	good := testClient(keychain{Username: "berth", Password: "s3cret"})
	if err := good.Push(ctx, cs, ref, desc, nil); err != nil {
		t.Fatalf("push with the right credentials: %v", err)
	}
	got, err := good.Resolve(ctx, ref)
	if err != nil || got.Digest != desc.Digest {
		t.Fatalf("resolve: %+v, %v", got, err)
	}
	img, err := good.Manifest(ctx, ref, "")
	if err != nil {
		t.Fatal(err)
	}
	into := must(content.Open(t.TempDir()))
	for _, l := range img.Manifest.Layers {
		if err := good.Ingest(ctx, into, ref, l); err != nil {
			t.Errorf("ingest %s: %v", l.Digest, err)
		}
	}

	for name, kc := range map[string]keychain{"wrong": {Username: "berth", Password: "nope"}, "none": {}} {
		c := testClient(kc)
		_, err := c.Resolve(ctx, ref)
		if !errdefs.IsFailedPrecondition(err) || !strings.Contains(err.Error(), tr.host) {
			t.Errorf("%s credentials, pull: want FailedPrecondition naming %s, got %v", name, tr.host, err)
		}
		t.Logf("%s credentials, pull: %v", name, err)
		err = c.Push(ctx, cs, must(parseRef(tr.host+"/team/app:v2")), desc, nil)
		t.Logf("%s credentials, push: %v", name, err)
		if !errdefs.IsFailedPrecondition(err) || !strings.Contains(err.Error(), tr.host) {
			t.Errorf("%s credentials, push: want FailedPrecondition naming %s, got %v", name, tr.host, err)
		}
	}
}

func parseRef(s string) (reference.Reference, error) { return reference.Parse(s) }
