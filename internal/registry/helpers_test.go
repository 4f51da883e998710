package registry

import (
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/berth-project/berth/internal/reference"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// doc is a crafted answer served in place of the registry's.
type doc struct {
	contentType string
	body        string
	digest      string // Docker-Content-Digest, if any
}

// fixture is go-containerregistry's in-process registry on 127.0.0.1 with
// an image at test/img:v1 and a two-platform index at test/multi:v1, behind
// a handler that can fail, require basic auth or serve crafted documents.
type fixture struct {
	host     string
	img      v1.Image
	amd, arm v1.Image
	fails    atomic.Int32 // manifest requests to answer 500 before passing through
	user     string       // basic auth required when set
	pass     string
	mu       sync.Mutex
	docs     map[string]doc                                    // by URL path
	ranges   []string                                          // Range headers seen
	hook     func(w http.ResponseWriter, r *http.Request) bool // answers first when set (true: answered)
	hits     atomic.Int32                                      // requests for manifests and blobs
	uploads  atomic.Int32                                      // POSTs starting a blob upload
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := newEmptyFixture(t)
	f.img = must(random.Image(1024, 2))
	f.amd = must(random.Image(512, 1))
	f.arm = must(random.Image(512, 1))
	idx := mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex),
		mutate.IndexAddendum{Add: f.amd, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
		mutate.IndexAddendum{Add: f.arm, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}}},
	)
	if err := remote.Write(must(name.ParseReference(f.host+"/test/img:v1")), f.img); err != nil {
		t.Fatal(err)
	}
	if err := remote.WriteIndex(must(name.ParseReference(f.host+"/test/multi:v1")), idx); err != nil {
		t.Fatal(err)
	}
	f.hits.Store(0)
	f.uploads.Store(0)
	return f
}

// newEmptyFixture is a fixture whose registry holds nothing.
func newEmptyFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{docs: map[string]doc{}}
	reg := ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0)))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		d, crafted := f.docs[r.URL.Path]
		if h := r.Header.Get("Range"); h != "" {
			f.ranges = append(f.ranges, h)
		}
		hook := f.hook
		f.mu.Unlock()
		if strings.Contains(r.URL.Path, "/manifests/") || strings.Contains(r.URL.Path, "/blobs/") {
			f.hits.Add(1)
		}
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/blobs/uploads/") {
			f.uploads.Add(1)
		}
		if hook != nil && hook(w, r) {
			return
		}
		if u, p, ok := r.BasicAuth(); f.user != "" && (!ok || u != f.user || p != f.pass) {
			w.Header().Set("WWW-Authenticate", `Basic realm="berth-test"`)
			http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"who are you"}]}`, http.StatusUnauthorized)
			return
		}
		if strings.Contains(r.URL.Path, "/manifests/") && f.fails.Add(-1) >= 0 {
			http.Error(w, "try again", http.StatusInternalServerError)
			return
		}
		if crafted {
			w.Header().Set("Content-Type", d.contentType)
			if d.digest != "" {
				w.Header().Set("Docker-Content-Digest", d.digest)
			}
			io.WriteString(w, d.body)
			return
		}
		reg.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	f.host = strings.TrimPrefix(srv.URL, "http://")
	return f
}

// setHook makes h answer requests first (it returns true when it did).
func (f *fixture) setHook(h func(w http.ResponseWriter, r *http.Request) bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hook = h
}

func (f *fixture) craft(path string, d doc) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.docs[path] = d
}

// ref parses s, relative to the fixture's registry.
func (f *fixture) ref(t *testing.T, s string) reference.Reference {
	t.Helper()
	r, err := reference.Parse(f.host + "/" + s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// keychain answers every registry with one username and password.
type keychain authn.AuthConfig

func (k keychain) Resolve(authn.Resource) (authn.Authenticator, error) {
	return authn.FromConfig(authn.AuthConfig(k)), nil
}

// testClient is anonymous (or uses kc) and retries fast.
func testClient(kc authn.Keychain) *Client {
	if kc == nil {
		kc = authn.NewMultiKeychain()
	}
	return New(Options{Keychain: kc, UserAgent: "berth/test", Backoff: Backoff(time.Millisecond, 3)})
}

// must returns v, panicking (failing the test) on err: for fixtures only.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
