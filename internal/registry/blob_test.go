package registry

import (
	"bytes"
	"context"
	"io"
	"testing"

	"github.com/berth-project/berth/internal/content"
	"github.com/berth-project/berth/internal/errdefs"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// layer returns the first layer of img: its descriptor and bytes.
func layer(t *testing.T, img v1.Image) (ocispec.Descriptor, []byte) {
	t.Helper()
	l := must(img.Layers())[0]
	b := must(io.ReadAll(must(l.Compressed())))
	return ocispec.Descriptor{Digest: digest.FromBytes(b), Size: int64(len(b))}, b
}

func TestFetchBlob(t *testing.T) {
	f := newFixture(t)
	c := testClient(nil)
	ref := f.ref(t, "test/img:v1")
	desc, want := layer(t, f.img)

	var buf bytes.Buffer
	if err := c.FetchBlob(context.Background(), ref, desc, &buf); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Error("blob differs")
	}

	short := desc
	short.Size--
	if err := c.FetchBlob(context.Background(), ref, short, io.Discard); !errdefs.IsInvalidArgument(err) {
		t.Errorf("wrong size: want InvalidArgument, got %v", err)
	}
	absent := ocispec.Descriptor{Digest: digest.FromString("absent"), Size: 6}
	if err := c.FetchBlob(context.Background(), ref, absent, io.Discard); !errdefs.IsNotFound(err) {
		t.Errorf("absent: want NotFound, got %v", err)
	}
}

// An ingest interrupted half way resumes with a Range request.
func TestIngestResumes(t *testing.T) {
	f := newFixture(t)
	c := testClient(nil)
	ref := f.ref(t, "test/img:v1")
	desc, want := layer(t, f.img)
	store := must(content.Open(t.TempDir()))

	w := must(store.Writer(desc.Digest.String(), desc.Digest, desc.Size))
	if _, err := w.Write(want[:len(want)/2]); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Ingest(context.Background(), store, ref, desc); err != nil {
		t.Fatal(err)
	}
	rc := must(store.Open(desc.Digest))
	defer rc.Close()
	if got := must(io.ReadAll(rc)); !bytes.Equal(got, want) {
		t.Error("stored blob differs")
	}
	if len(f.ranges) != 1 {
		t.Errorf("Range requests: %q, want one", f.ranges)
	}
	if err := c.Ingest(context.Background(), store, ref, desc); err != nil {
		t.Errorf("second ingest: %v", err)
	}
}
