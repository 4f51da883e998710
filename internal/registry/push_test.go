package registry

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/berth-project/berth/internal/content"
	"github.com/berth-project/berth/internal/errdefs"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/types"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// putBytes puts b into cs and describes it.
func putBytes(t *testing.T, cs *content.Store, mt string, b []byte) ocispec.Descriptor {
	t.Helper()
	d := digest.FromBytes(b)
	err := cs.Ingest(d.String(), d, int64(len(b)), func(off int64) (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(b[off:])), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return ocispec.Descriptor{MediaType: mt, Digest: d, Size: int64(len(b))}
}

// storeImage puts img (manifest, config, layers) into cs.
func storeImage(t *testing.T, cs *content.Store, img v1.Image) ocispec.Descriptor {
	t.Helper()
	putBytes(t, cs, "", must(img.RawConfigFile()))
	for _, l := range must(img.Layers()) {
		putBytes(t, cs, "", must(io.ReadAll(must(l.Compressed()))))
	}
	return putBytes(t, cs, string(must(img.MediaType())), must(img.RawManifest()))
}

// storeIndex puts idx and its images into cs.
func storeIndex(t *testing.T, cs *content.Store, idx v1.ImageIndex) ocispec.Descriptor {
	t.Helper()
	for _, m := range must(idx.IndexManifest()).Manifests {
		storeImage(t, cs, must(idx.Image(m.Digest)))
	}
	return putBytes(t, cs, string(must(idx.MediaType())), must(idx.RawManifest()))
}

// progressLog records the last report per digest.
type progressLog struct {
	mu   sync.Mutex
	last map[digest.Digest][2]int64
}

func (p *progressLog) report(d ocispec.Descriptor, cur, total int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.last == nil {
		p.last = map[digest.Digest][2]int64{}
	}
	p.last[d.Digest] = [2]int64{cur, total}
}

func TestPushImage(t *testing.T) {
	f := newEmptyFixture(t)
	c := testClient(nil)
	ctx := context.Background()
	cs := must(content.Open(t.TempDir()))
	img := must(random.Image(2048, 3))
	desc := storeImage(t, cs, img)
	ref := f.ref(t, "pushed/img:v1")

	var log progressLog
	if err := c.Push(ctx, cs, ref, desc, log.report); err != nil {
		t.Fatal(err)
	}
	got, err := c.Resolve(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	if got.Digest != desc.Digest || got.Size != desc.Size || got.MediaType != desc.MediaType {
		t.Errorf("resolved %+v, pushed %+v", got, desc)
	}
	fetched, err := c.Manifest(ctx, ref, "")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(fetched.RawConfig, must(img.RawConfigFile())) || len(fetched.Manifest.Layers) != 3 {
		t.Errorf("manifest after push: %+v", fetched.Manifest)
	}
	for _, l := range fetched.Manifest.Layers {
		var buf bytes.Buffer
		if err := c.FetchBlob(ctx, ref, l, &buf); err != nil {
			t.Errorf("layer %s: %v", l.Digest, err)
		}
		if p := log.last[l.Digest]; p != [2]int64{l.Size, l.Size} {
			t.Errorf("progress of %s ended at %v, want %d", l.Digest, p, l.Size)
		}
	}
	if len(log.last) != 5 {
		t.Errorf("progress for %d documents, want 5 (manifest, config, 3 layers)", len(log.last))
	}
	if n := f.uploads.Load(); n != 4 {
		t.Errorf("%d uploads, want 4 (config and 3 layers)", n)
	}

	// Again, to another tag: every blob is there, nothing is uploaded.
	f.uploads.Store(0)
	if err := c.Push(ctx, cs, f.ref(t, "pushed/img:v2"), desc, nil); err != nil {
		t.Fatal(err)
	}
	if n := f.uploads.Load(); n != 0 {
		t.Errorf("second push uploaded %d blobs", n)
	}

	// By digest.
	byDigest := f.ref(t, "pushed/other@"+desc.Digest.String())
	if err := c.Push(ctx, cs, byDigest, desc, nil); err != nil {
		t.Fatal(err)
	}
	if got, err := c.Resolve(ctx, byDigest); err != nil || got.Digest != desc.Digest {
		t.Errorf("resolve by digest: %+v, %v", got, err)
	}
	wrong := f.ref(t, "pushed/other@"+digest.FromString("x").String())
	if err := c.Push(ctx, cs, wrong, desc, nil); !errdefs.IsInvalidArgument(err) {
		t.Errorf("digest ref naming another document: want InvalidArgument, got %v", err)
	}
}

func TestPushIndex(t *testing.T) {
	f := newEmptyFixture(t)
	c := testClient(nil)
	ctx := context.Background()
	cs := must(content.Open(t.TempDir()))
	amd, arm := must(random.Image(512, 2)), must(random.Image(512, 1))
	idx := mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex),
		mutate.IndexAddendum{Add: amd, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
		mutate.IndexAddendum{Add: arm, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64"}}},
	)
	desc := storeIndex(t, cs, idx)
	ref := f.ref(t, "pushed/multi:v1")
	if err := c.Push(ctx, cs, ref, desc, nil); err != nil {
		t.Fatal(err)
	}
	got, err := c.Resolve(ctx, ref)
	if err != nil || got.Digest != desc.Digest || got.MediaType != ocispec.MediaTypeImageIndex {
		t.Fatalf("resolved %+v (%v), pushed %+v", got, err, desc)
	}
	for platform, want := range map[string]v1.Image{"linux/amd64": amd, "linux/arm64": arm} {
		img, err := c.Manifest(ctx, ref, platform)
		if err != nil {
			t.Fatalf("%s: %v", platform, err)
		}
		if img.Descriptor.Digest.String() != must(want.Digest()).String() {
			t.Errorf("%s: got %s", platform, img.Descriptor.Digest)
		}
		for _, l := range img.Manifest.Layers {
			if err := c.FetchBlob(ctx, ref, l, io.Discard); err != nil {
				t.Errorf("%s: layer %s: %v", platform, l.Digest, err)
			}
		}
	}
}

// A push fails, naming the digest, when the store lacks a blob.
func TestPushMissingBlob(t *testing.T) {
	f := newEmptyFixture(t)
	cs := must(content.Open(t.TempDir()))
	img := must(random.Image(256, 1))
	desc := putBytes(t, cs, string(must(img.MediaType())), must(img.RawManifest()))
	putBytes(t, cs, "", must(img.RawConfigFile()))
	layer := must(must(img.Layers())[0].Digest())
	err := testClient(nil).Push(context.Background(), cs, f.ref(t, "pushed/img:v1"), desc, nil)
	if !errdefs.IsNotFound(err) || !strings.Contains(err.Error(), layer.String()) {
		t.Errorf("want NotFound naming %s, got %v", layer, err)
	}
	if _, err := testClient(nil).Resolve(context.Background(), f.ref(t, "pushed/img:v1")); !errdefs.IsNotFound(err) {
		t.Errorf("the tag exists after a failed push: %v", err)
	}
}

// A registry that says it stored another digest than was pushed fails the
// push.
func TestPushDigestEcho(t *testing.T) {
	f := newEmptyFixture(t)
	cs := must(content.Open(t.TempDir()))
	desc := storeImage(t, cs, must(random.Image(256, 1)))
	for _, kind := range []string{"/blobs/uploads/", "/manifests/"} {
		f.setHook(func(w http.ResponseWriter, r *http.Request) bool {
			if r.Method != http.MethodPut || !strings.Contains(r.URL.Path, kind) {
				return false
			}
			io.Copy(io.Discard, r.Body)
			w.Header().Set("Docker-Content-Digest", digest.FromString("liar").String())
			w.WriteHeader(http.StatusCreated)
			return true
		})
		err := testClient(nil).Push(context.Background(), cs, f.ref(t, "pushed/img:v1"), desc, nil)
		if !errdefs.IsInvalidArgument(err) || !strings.Contains(err.Error(), "stored it as") {
			t.Errorf("%s: want InvalidArgument about the digest, got %v", kind, err)
		}
	}
}

// An upload answered with a 500 is retried with its whole body.
func TestPushRetriesUpload(t *testing.T) {
	f := newEmptyFixture(t)
	c := testClient(nil)
	cs := must(content.Open(t.TempDir()))
	img := must(random.Image(4096, 1))
	desc := storeImage(t, cs, img)
	var failed sync.Map
	f.setHook(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != http.MethodPut || !strings.Contains(r.URL.Path, "/blobs/uploads/") {
			return false
		}
		if _, again := failed.LoadOrStore(r.URL.Query().Get("digest"), true); again {
			return false
		}
		io.CopyN(io.Discard, r.Body, 100) // the first attempt's body is part read
		http.Error(w, "hiccup", http.StatusInternalServerError)
		return true
	})
	ref := f.ref(t, "pushed/img:v1")
	if err := c.Push(context.Background(), cs, ref, desc, nil); err != nil {
		t.Fatal(err)
	}
	n := 0
	failed.Range(func(any, any) bool { n++; return true })
	if n != 2 {
		t.Errorf("%d uploads failed once, want 2 (config and layer)", n)
	}
	l := must(img.Layers())[0]
	want := must(io.ReadAll(must(l.Compressed())))
	var got bytes.Buffer
	ld := ocispec.Descriptor{Digest: digest.Digest(must(l.Digest()).String()), Size: int64(len(want))}
	if err := c.FetchBlob(context.Background(), ref, ld, &got); err != nil || !bytes.Equal(got.Bytes(), want) {
		t.Errorf("layer after a retried upload: %v", err)
	}
}
