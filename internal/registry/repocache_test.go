package registry

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/berth-project/berth/internal/content"
	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/reference"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// pushRandom writes a random image of n layers to ref.
func pushRandom(t *testing.T, ref string, n int64) {
	t.Helper()
	if err := remote.Write(must(name.ParseReference(ref)), must(random.Image(512, n))); err != nil {
		t.Fatal(err)
	}
}

// pullAllConcurrently fetches ref's manifest and config, then ingests its layers
// concurrently, as internal/unpack does.
func pullAllConcurrently(t *testing.T, c *Client, ref reference.Reference) error {
	t.Helper()
	ctx := context.Background()
	img, err := c.Manifest(ctx, ref, "")
	if err != nil {
		return err
	}
	cs := must(content.Open(t.TempDir()))
	errs := make([]error, len(img.Manifest.Layers))
	var wg sync.WaitGroup
	for i, l := range img.Manifest.Layers {
		wg.Add(1)
		go func(i int, l ocispec.Descriptor) {
			defer wg.Done()
			errs[i] = c.Ingest(ctx, cs, ref, l)
		}(i, l)
	}
	wg.Wait()
	for _, l := range img.Manifest.Layers {
		if _, err := cs.Info(l.Digest); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// A pull pings the registry once, not once per manifest, config and blob.
func TestRepoCacheOnePingPerPull(t *testing.T) {
	f := newEmptyFixture(t)
	var pings atomic.Int32
	f.setHook(func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path == "/v2/" {
			pings.Add(1)
		}
		return false
	})
	pushRandom(t, f.host+"/test/many:v1", 6)
	pings.Store(0) // the push's own
	c := testClient(nil)
	if err := pullAllConcurrently(t, c, f.ref(t, "test/many:v1")); err != nil {
		t.Fatal(err)
	}
	if n := pings.Load(); n != 1 {
		t.Errorf("a pull of 6 layers pinged /v2/ %d times, want 1", n)
	}
	// Another repository of the same registry is authenticated on its own.
	pushRandom(t, f.host+"/test/other:v1", 1)
	pings.Store(0)
	if err := pullAllConcurrently(t, c, f.ref(t, "test/other:v1")); err != nil {
		t.Fatal(err)
	}
	if n := pings.Load(); n != 1 {
		t.Errorf("a pull of another repository pinged /v2/ %d times, want 1", n)
	}
}

// With token auth, a pull asks the token server once.
func TestRepoCacheOneTokenPerPull(t *testing.T) {
	tr := newTokenRegistry(t, "berth", "s3cret")
	c := testClient(keychain{Username: "berth", Password: "s3cret"})
	ref := must(parseRef(tr.host + "/team/app:v1"))
	cs := must(content.Open(t.TempDir()))
	desc := storeImage(t, cs, must(random.Image(512, 5)))
	if err := c.Push(context.Background(), cs, ref, desc, nil); err != nil {
		t.Fatal(err)
	}
	tokens := func() int {
		tr.mu.Lock()
		defer tr.mu.Unlock()
		return len(tr.tokens)
	}
	before := tokens()
	if err := pullAllConcurrently(t, c, ref); err != nil {
		t.Fatal(err)
	}
	if n := tokens() - before; n != 1 {
		t.Errorf("a pull of 5 layers fetched %d tokens, want 1", n)
	}
}

// A refusal (401/403) drops the cached repo: the next request authenticates
// again, and new credentials from the keychain are used at once.
func TestRepoCacheRefusedAndNewCredentials(t *testing.T) {
	f := newFixture(t)
	var pings atomic.Int32
	var refuse atomic.Bool
	f.setHook(func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path == "/v2/" {
			pings.Add(1)
		}
		if refuse.Load() && strings.Contains(r.URL.Path, "/blobs/") {
			http.Error(w, `{"errors":[{"code":"DENIED","message":"no"}]}`, http.StatusForbidden)
			return true
		}
		return false
	})
	kc := &switchKeychain{}
	c := testClient(kc)
	ref := f.ref(t, "test/img:v1")
	ctx := context.Background()
	if _, err := c.Resolve(ctx, ref); err != nil {
		t.Fatal(err)
	}
	desc, _ := layer(t, f.img)
	cs := must(content.Open(t.TempDir()))
	refuse.Store(true)
	if err := c.Ingest(ctx, cs, ref, desc); !errdefs.IsFailedPrecondition(err) {
		t.Fatalf("refused blob: want FailedPrecondition, got %v", err)
	}
	refuse.Store(false)
	pings.Store(0)
	if err := c.Ingest(ctx, cs, ref, desc); err != nil {
		t.Fatal(err)
	}
	if n := pings.Load(); n != 1 {
		t.Errorf("after a refusal: %d pings, want 1 (a new authentication)", n)
	}

	// New credentials (a login in another process): authenticated again,
	// and the registry sees them.
	f.user, f.pass = "berth", "s3cret"
	if _, err := c.Resolve(ctx, ref); !errdefs.IsFailedPrecondition(err) {
		t.Fatalf("anonymous pull from a registry wanting credentials: want FailedPrecondition, got %v", err)
	}
	kc.set(authn.AuthConfig{Username: "berth", Password: "s3cret"})
	if _, err := c.Resolve(ctx, ref); err != nil {
		t.Fatalf("pull with the new credentials: %v", err)
	}
}

// switchKeychain answers every registry with the credentials last set.
type switchKeychain struct {
	mu  sync.Mutex
	cfg authn.AuthConfig
}

func (k *switchKeychain) set(cfg authn.AuthConfig) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.cfg = cfg
}

func (k *switchKeychain) Resolve(authn.Resource) (authn.Authenticator, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.cfg == (authn.AuthConfig{}) {
		return authn.Anonymous, nil
	}
	return authn.FromConfig(k.cfg), nil
}

// Callers waiting for an authentication share it; when it fails because its
// caller gave up, a waiter that has not tries again itself; failures are
// not kept.
func TestRepoCacheSharedAuthentication(t *testing.T) {
	var rc repoCache
	key := repoKey{registry: "http://127.0.0.1:1", path: "a", action: pullAction}
	var calls atomic.Int32
	release := make(chan struct{})
	first, cancel := context.WithCancel(context.Background())
	firstErr := make(chan error, 1)
	go func() {
		_, err := rc.get(first, key, func() (*repo, error) {
			calls.Add(1)
			<-first.Done() // gives up
			return nil, first.Err()
		})
		firstErr <- err
	}()
	for calls.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	want := &repo{client: &http.Client{}}
	var wg sync.WaitGroup
	got := make([]*repo, 3)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := rc.get(context.Background(), key, func() (*repo, error) {
				calls.Add(1)
				<-release
				return want, nil
			})
			if err != nil {
				t.Error(err)
			}
			got[i] = r
		}()
	}
	time.Sleep(10 * time.Millisecond) // the waiters wait on the first one
	cancel()
	if err := <-firstErr; !errors.Is(err, context.Canceled) {
		t.Errorf("first caller: want context.Canceled, got %v", err)
	}
	close(release)
	wg.Wait()
	for i, r := range got {
		if r != want {
			t.Errorf("waiter %d got %p, want the shared repo %p", i, r, want)
		}
	}
	if n := calls.Load(); n != 2 {
		t.Errorf("%d authentications, want 2 (the cancelled one, then one for all waiters)", n)
	}

	bad := repoKey{registry: "http://127.0.0.1:1", path: "bad", action: pullAction}
	for range 2 {
		if _, err := rc.get(context.Background(), bad, func() (*repo, error) {
			calls.Add(1)
			return nil, errdefs.ErrUnavailable
		}); !errors.Is(err, errdefs.ErrUnavailable) {
			t.Errorf("want the authentication's error, got %v", err)
		}
	}
	if n := calls.Load(); n != 4 {
		t.Errorf("%d authentications, want 4: a failure is not cached", n)
	}
}
