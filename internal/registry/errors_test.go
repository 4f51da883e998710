package registry

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/berth-project/berth/internal/errdefs"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func TestRetry(t *testing.T) {
	f := newFixture(t)
	c := testClient(nil)
	f.fails.Store(2)
	if _, err := c.Resolve(context.Background(), f.ref(t, "test/img:v1")); err != nil {
		t.Fatalf("two 500s then success: %v", err)
	}
	f.fails.Store(100)
	_, err := c.Resolve(context.Background(), f.ref(t, "test/img:v1"))
	if !errors.Is(err, errdefs.ErrUnavailable) {
		t.Errorf("500 every time: want Unavailable, got %v", err)
	}
}

// Garbage and documents that read as both an index and a manifest
// (CVE-2021-41190) are refused.
func TestBadDocuments(t *testing.T) {
	f := newFixture(t)
	c := testClient(nil)
	layers := `"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:` + strings.Repeat("a", 64) + `","size":2},"layers":[]`
	manifests := `"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:` + strings.Repeat("b", 64) + `","size":2}]`
	for tag, tc := range map[string]struct {
		d    doc
		want string
	}{
		"garbage":      {doc{contentType: ocispec.MediaTypeImageManifest, body: "<html>oops"}, "not a valid manifest"},
		"both":         {doc{contentType: ocispec.MediaTypeImageIndex, body: `{"schemaVersion":2,` + manifests + `,` + layers + `}`}, "ambiguous"},
		"both-json":    {doc{contentType: "application/json", body: `{"schemaVersion":2,` + manifests + `,` + layers + `}`}, "ambiguous"},
		"disagree":     {doc{contentType: ocispec.MediaTypeImageManifest, body: `{"schemaVersion":2,"mediaType":"` + ocispec.MediaTypeImageIndex + `",` + layers + `}`}, "ambiguous"},
		"index-layers": {doc{contentType: ocispec.MediaTypeImageIndex, body: `{"schemaVersion":2,` + layers + `}`}, "ambiguous"},
		"schema1":      {doc{contentType: "application/vnd.docker.distribution.manifest.v1+prettyjws", body: `{"schemaVersion":1}`}, "unsupported media type"},
	} {
		f.craft("/v2/bad/manifests/"+tag, tc.d)
		_, err := c.Resolve(context.Background(), f.ref(t, "bad:"+tag))
		if !errdefs.IsInvalidArgument(err) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: want InvalidArgument %q, got %v", tag, tc.want, err)
		}
	}
}

func TestBasicAuth(t *testing.T) {
	f := newFixture(t)
	f.user, f.pass = "berth", "s3cret"
	ref := f.ref(t, "test/img:v1")
	if _, err := testClient(keychain{Username: "berth", Password: "s3cret"}).Resolve(context.Background(), ref); err != nil {
		t.Fatalf("right password: %v", err)
	}
	for _, kc := range []keychain{{Username: "berth", Password: "wrong"}, {}} {
		_, err := testClient(kc).Resolve(context.Background(), ref)
		if !errdefs.IsFailedPrecondition(err) || !strings.Contains(err.Error(), "401") {
			t.Errorf("%+v: want FailedPrecondition naming 401, got %v", kc, err)
		}
	}
}
