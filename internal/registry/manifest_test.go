package registry

import (
	"context"
	"runtime"
	"strings"
	"testing"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/image"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	digest "github.com/opencontainers/go-digest"
)

func TestManifestPlatforms(t *testing.T) {
	f := newFixture(t)
	c := testClient(nil)
	ctx := context.Background()
	multi := f.ref(t, "test/multi:v1")
	amd, arm := must(f.amd.Digest()), must(f.arm.Digest())
	host := map[string]v1.Hash{"amd64": amd, "arm64": arm}[runtime.GOARCH]

	for _, tc := range []struct {
		platform string
		want     v1.Hash
	}{
		{"linux/amd64", amd}, {"linux/arm64", arm}, {"linux/arm64/v8", arm}, {"", host},
	} {
		if tc.want == (v1.Hash{}) {
			continue // a host that is neither
		}
		img, err := c.Manifest(ctx, multi, tc.platform)
		if err != nil {
			t.Fatalf("%q: %v", tc.platform, err)
		}
		if img.Descriptor.Digest.String() != tc.want.String() || img.Descriptor.Platform == nil {
			t.Errorf("%q: got %+v, want %s", tc.platform, img.Descriptor, tc.want)
		}
		if digest.FromBytes(img.RawConfig) != img.Manifest.Config.Digest || len(img.Manifest.Layers) != 1 {
			t.Errorf("%q: config or layers wrong: %+v", tc.platform, img.Manifest)
		}
	}

	_, err := c.Manifest(ctx, multi, "linux/s390x")
	if !errdefs.IsNotFound(err) || !strings.Contains(err.Error(), "linux/amd64, linux/arm64/v8") {
		t.Errorf("missing platform: want NotFound listing the index, got %v", err)
	}
	_, err = c.Manifest(ctx, multi, "linux/arm/v7")
	if !errdefs.IsNotFound(err) {
		t.Errorf("linux/arm/v7: want NotFound, got %v", err)
	}
	if _, err = c.Manifest(ctx, multi, "linux"); !errdefs.IsInvalidArgument(err) {
		t.Errorf("bad platform: want InvalidArgument, got %v", err)
	}
}

func TestManifestSingle(t *testing.T) {
	f := newFixture(t)
	c := testClient(nil)
	img, err := c.Manifest(context.Background(), f.ref(t, "test/img:v1"), "")
	if err != nil {
		t.Fatal(err)
	}
	if img.Target.Digest != img.Descriptor.Digest || len(img.Manifest.Layers) != 2 {
		t.Errorf("got %+v", img)
	}
	// random images' configs name no platform, so any is accepted.
	if _, err := c.Manifest(context.Background(), f.ref(t, "test/img:v1"), "linux/arm64"); err != nil {
		t.Errorf("explicit platform: %v", err)
	}
}

func TestMatches(t *testing.T) {
	for _, tc := range []struct {
		want, have string
		ok         bool
	}{
		{"linux/arm64", "linux/arm64/v8", true},
		{"linux/arm64/v8", "linux/arm64", true},
		{"linux/arm/v7", "linux/arm", true},
		{"linux/arm/v7", "linux/arm/v6", false},
		{"linux/amd64", "windows/amd64", false},
		{"linux/amd64/v1", "linux/amd64", true},
	} {
		w := must(image.ParsePlatform(tc.want))
		h := must(image.ParsePlatform(tc.have))
		if got := image.Matches(w, &h); got != tc.ok {
			t.Errorf("image.Matches(%s, %s) = %v", tc.want, tc.have, got)
		}
	}
}
