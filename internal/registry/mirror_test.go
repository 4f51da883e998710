package registry

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/berth-project/berth/internal/content"
	"github.com/berth-project/berth/internal/errdefs"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// mirrored returns a client whose configuration sends pulls from up to the
// mirrors, in order.
func mirrored(up *fixture, mirrors ...string) *Client {
	regs := &Registries{Registry: []RegistryConfig{{Location: up.host}}}
	for _, m := range mirrors {
		regs.Registry[0].Mirror = append(regs.Registry[0].Mirror, Mirror{Location: m})
	}
	c := testClient(nil)
	c.opts.Registries = regs
	return c
}

// pullAll resolves, fetches the manifest and ingests every layer of ref.
func pullAll(t *testing.T, c *Client, ref string, f *fixture) error {
	t.Helper()
	ctx := context.Background()
	r := f.ref(t, ref)
	if _, err := c.Resolve(ctx, r); err != nil {
		return err
	}
	img, err := c.Manifest(ctx, r, "")
	if err != nil {
		return err
	}
	cs := must(content.Open(t.TempDir()))
	for _, l := range img.Manifest.Layers {
		if err := c.Ingest(ctx, cs, r, l); err != nil {
			return err
		}
	}
	return nil
}

// A mirror that has the image serves all of it.
func TestMirrorServes(t *testing.T) {
	up, mirror := newFixture(t), newEmptyFixture(t)
	if err := remote.Write(must(name.ParseReference(mirror.host+"/cache/test/img:v1")), up.img); err != nil {
		t.Fatal(err)
	}
	mirror.hits.Store(0)
	if err := pullAll(t, mirrored(up, mirror.host+"/cache"), "test/img:v1", up); err != nil {
		t.Fatal(err)
	}
	if up.hits.Load() != 0 || mirror.hits.Load() == 0 {
		t.Errorf("upstream served %d requests, mirror %d", up.hits.Load(), mirror.hits.Load())
	}
}

// A mirror without the image (404), or one that is down, passes the pull
// on to the next mirror and then to the registry.
func TestMirrorFallback(t *testing.T) {
	up, empty := newFixture(t), newEmptyFixture(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := l.Addr().String()
	l.Close() // nothing listens there now: connection refused

	c := mirrored(up, down, empty.host+"/cache")
	if err := pullAll(t, c, "test/img:v1", up); err != nil {
		t.Fatal(err)
	}
	if up.hits.Load() == 0 || empty.hits.Load() == 0 {
		t.Errorf("upstream served %d requests, the empty mirror saw %d", up.hits.Load(), empty.hits.Load())
	}

	// Absent everywhere: NotFound from the registry, saying what the
	// mirrors said.
	_, err = c.Resolve(context.Background(), up.ref(t, "test/none:v1"))
	if !errdefs.IsNotFound(err) || !strings.Contains(err.Error(), "after mirrors") || !strings.Contains(err.Error(), down) {
		t.Errorf("absent everywhere: want NotFound listing the mirrors, got %v", err)
	}
}

// A mirror that sends other bytes than the digest asked for fails the
// pull; the registry is not asked.
func TestMirrorTampered(t *testing.T) {
	up, mirror := newFixture(t), newEmptyFixture(t)
	want := must(up.img.Digest())
	other := string(must(up.amd.RawManifest()))
	mirror.craft("/v2/cache/test/img/manifests/"+want.String(), doc{contentType: DockerManifest, body: other})
	c := mirrored(up, mirror.host+"/cache")

	_, err := c.Resolve(context.Background(), up.ref(t, "test/img@"+want.String()))
	if !errdefs.IsInvalidArgument(err) || !strings.Contains(err.Error(), mirror.host) {
		t.Errorf("tampered manifest: want InvalidArgument naming the mirror, got %v", err)
	}
	if _, err := c.Manifest(context.Background(), up.ref(t, "test/img@"+want.String()), ""); !errdefs.IsInvalidArgument(err) {
		t.Errorf("tampered manifest through Manifest: want InvalidArgument, got %v", err)
	}

	desc, _ := layer(t, up.img)
	mirror.setHook(func(w http.ResponseWriter, r *http.Request) bool {
		if !strings.HasSuffix(r.URL.Path, "/blobs/"+desc.Digest.String()) {
			return false
		}
		io.WriteString(w, strings.Repeat("x", int(desc.Size)))
		return true
	})
	cs := must(content.Open(t.TempDir()))
	err = c.Ingest(context.Background(), cs, up.ref(t, "test/img:v1"), desc)
	if !errdefs.IsInvalidArgument(err) {
		t.Errorf("tampered blob: want InvalidArgument, got %v", err)
	}
	if err := c.FetchBlob(context.Background(), up.ref(t, "test/img:v1"), desc, io.Discard); !errdefs.IsInvalidArgument(err) {
		t.Errorf("tampered blob through FetchBlob: want InvalidArgument, got %v", err)
	}
	if _, err := cs.Info(desc.Digest); !errdefs.IsNotFound(err) {
		t.Errorf("tampered blob in the store: %v", err)
	}
	if n := up.hits.Load(); n != 0 {
		t.Errorf("the registry was asked %d times after a mismatch", n)
	}
}
