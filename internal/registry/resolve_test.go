package registry

import (
	"context"
	"strings"
	"testing"

	"github.com/berth-project/berth/internal/errdefs"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func TestResolve(t *testing.T) {
	f := newFixture(t)
	c := testClient(nil)
	ctx := context.Background()
	want := must(f.img.Digest())
	size := must(f.img.Size())

	for _, s := range []string{"test/img:v1", "test/img@" + want.String(), "test/img:v1@" + want.String()} {
		d, err := c.Resolve(ctx, f.ref(t, s))
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		if d.Digest.String() != want.String() || d.Size != size || d.MediaType != DockerManifest {
			t.Errorf("%s: got %+v, want %s %d %s", s, d, want, size, DockerManifest)
		}
	}
	d, err := c.Resolve(ctx, f.ref(t, "test/multi:v1"))
	if err != nil || d.MediaType != ocispec.MediaTypeImageIndex {
		t.Errorf("index: %+v, %v", d, err)
	}
}

func TestResolveNotFound(t *testing.T) {
	f := newFixture(t)
	c := testClient(nil)
	absent := digest.FromString("absent")
	for _, s := range []string{"test/img:v2", "test/nothing:v1", "test/img@" + absent.String()} {
		_, err := c.Resolve(context.Background(), f.ref(t, s))
		if !errdefs.IsNotFound(err) || !strings.Contains(err.Error(), f.host) {
			t.Errorf("%s: want NotFound naming the reference, got %v", s, err)
		}
	}
}

// A registry that serves other bytes than the digest asked for (or than
// its own Docker-Content-Digest) is refused.
func TestResolveDigestMismatch(t *testing.T) {
	f := newFixture(t)
	c := testClient(nil)
	raw := string(must(f.img.RawManifest()))
	wrong := digest.FromString("other")
	f.craft("/v2/lie/manifests/"+wrong.String(), doc{contentType: DockerManifest, body: raw})
	f.craft("/v2/lie/manifests/v1", doc{contentType: DockerManifest, body: raw, digest: wrong.String()})

	for _, s := range []string{"lie@" + wrong.String(), "lie:v1"} {
		_, err := c.Resolve(context.Background(), f.ref(t, s))
		if !errdefs.IsInvalidArgument(err) || !strings.Contains(err.Error(), "digest") {
			t.Errorf("%s: want InvalidArgument about the digest, got %v", s, err)
		}
	}
}
