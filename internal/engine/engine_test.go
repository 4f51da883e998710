package engine

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/snapshot"
	"github.com/berth-project/berth/internal/testenv"
	"github.com/google/go-containerregistry/pkg/name"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	digest "github.com/opencontainers/go-digest"
)

// testRegistry is go-containerregistry's in-process registry on 127.0.0.1
// (plain http, as every localhost registry is for Berth).
func testRegistry(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(ggcrregistry.New(ggcrregistry.Logger(nilLogger())))
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

// push puts img at ref ("host/repo:tag") in the test registry.
func push(t *testing.T, ref string, img v1.Image) {
	t.Helper()
	r, err := name.ParseReference(ref, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(r, img); err != nil {
		t.Fatalf("push %s: %v", ref, err)
	}
}

func randomImage(t *testing.T, layers int64) v1.Image {
	t.Helper()
	img, err := random.Image(4096, layers)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// newEngine opens an engine on roots of the test's own.
func newEngine(t *testing.T, driver string) *Engine {
	t.Helper()
	testenv.RequiresRoot(t)
	dir := t.TempDir()
	conf := filepath.Join(dir, "registries.toml")
	if err := os.WriteFile(conf, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	e, err := Open(Config{Root: filepath.Join(dir, "root"), RunRoot: filepath.Join(dir, "run"),
		StorageDriver: driver, RegistriesConf: conf, AuthFile: filepath.Join(dir, "auth.json")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// counts is what the storage root holds.
type counts struct{ images, blobs, snapshots, roots int }

func (e *Engine) counts(t *testing.T) counts {
	t.Helper()
	var c counts
	imgs, err := e.Images(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	c.images = len(imgs)
	blobs, _ := os.ReadDir(filepath.Join(e.cfg.Root, "content", "blobs", "sha256"))
	c.blobs = len(blobs)
	roots, _ := e.content.Roots()
	c.roots = len(roots)
	_ = e.snap.Walk(context.Background(), func(snapshot.Info) error { c.snapshots++; return nil })
	return c
}

func TestPullShareRemovePrune(t *testing.T) {
	for _, driver := range []string{"overlay", "native"} {
		t.Run(driver, func(t *testing.T) {
			ctx := context.Background()
			host := testRegistry(t)
			base := randomImage(t, 2)
			child, err := mutate.AppendLayers(base, must(random.Layer(2048, "application/vnd.oci.image.layer.v1.tar+gzip")))
			if err != nil {
				t.Fatal(err)
			}
			push(t, host+"/base:1", base)
			push(t, host+"/child:1", child)
			e := newEngine(t, driver)

			r, err := e.Pull(ctx, host+"/base:1", PullOptions{})
			if err != nil || !r.Updated {
				t.Fatalf("pull base: %+v, %v", r, err)
			}
			if want, _ := base.ConfigName(); r.Image.Config.String() != want.String() {
				t.Fatalf("image ID %s, want the config digest %s", r.Image.Config, want)
			}
			if r, err := e.Pull(ctx, host+"/base:1", PullOptions{}); err != nil || r.Updated {
				t.Fatalf("second pull: %+v, %v (want up to date)", r, err)
			}
			if _, err := e.Pull(ctx, host+"/child:1", PullOptions{}); err != nil {
				t.Fatal(err)
			}
			if c := e.counts(t); c.images != 2 || c.snapshots != 3 {
				t.Fatalf("after two pulls sharing two layers: %+v, want 2 images and 3 snapshots", c)
			}

			if _, err := e.Tag(host+"/base:1", "other:1"); err != nil {
				t.Fatal(err)
			}
			id := r.Image.Config.Encoded()[:12]
			if _, err := e.RemoveImage(ctx, id, false); !errdefs.IsFailedPrecondition(err) {
				t.Fatalf("rmi of an ID with two names without force: %v", err)
			}
			res, err := e.RemoveImage(ctx, "other:1", false)
			if err != nil || len(res.Untagged) != 1 || len(res.Deleted) != 0 {
				t.Fatalf("rmi other:1 = %+v, %v (want untagged only)", res, err)
			}
			res, err = e.RemoveImage(ctx, host+"/base:1", false)
			if err != nil || len(res.Deleted) != 1 {
				t.Fatalf("rmi base = %+v, %v", res, err)
			}
			if c := e.counts(t); c.images != 1 || c.snapshots != 3 {
				t.Fatalf("child still needs every layer: %+v", c)
			}
			if _, err := e.PruneImages(ctx, true); err != nil {
				t.Fatal(err)
			}
			if c := e.counts(t); c != (counts{}) {
				t.Fatalf("after prune -a the root still holds %+v", c)
			}
		})
	}
}

func TestDanglingAndReconcile(t *testing.T) {
	ctx := context.Background()
	host := testRegistry(t)
	e := newEngine(t, "")
	push(t, host+"/app:1", randomImage(t, 1))
	first, err := e.Pull(ctx, host+"/app:1", PullOptions{})
	if err != nil {
		t.Fatal(err)
	}
	push(t, host+"/app:1", randomImage(t, 1))
	if _, err := e.Pull(ctx, host+"/app:1", PullOptions{}); err != nil {
		t.Fatal(err)
	}
	dangling, err := e.Images(ctx, []string{"dangling=true"})
	if err != nil || len(dangling) != 1 || dangling[0].Config != first.Image.Config || dangling[0].Repository != "<none>" {
		t.Fatalf("dangling images = %+v, %v", dangling, err)
	}
	// A root that a crash left (no record has its target), and a pull
	// root of a process that is gone.
	bogus := digest.Digest("sha256:" + strings.Repeat("ab", 32))
	if err := e.content.AddRoot(imageRoot(bogus), bogus); err != nil {
		t.Fatal(err)
	}
	if err := e.content.AddRoot("pull/1-1/1", first.Image.Config); err != nil {
		t.Fatal(err)
	}
	res, err := e.PruneImages(ctx, false)
	if err != nil || len(res.Deleted) != 1 || res.Deleted[0] != first.Image.Config {
		t.Fatalf("prune = %+v, %v", res, err)
	}
	if c := e.counts(t); c.images != 1 || c.roots != 1 || c.snapshots != 1 {
		t.Fatalf("after prune: %+v, want the one named image, its root and its layer", c)
	}
}

func TestSaveLoadRoundTrip(t *testing.T) {
	ctx := context.Background()
	host := testRegistry(t)
	push(t, host+"/app:1", randomImage(t, 2))
	src := newEngine(t, "")
	pulled, err := src.Pull(ctx, host+"/app:1", PullOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{FormatDockerArchive, FormatOCIArchive} {
		var buf bytes.Buffer
		if err := src.Save(ctx, &buf, []string{host + "/app:1"}, format); err != nil {
			t.Fatalf("save %s: %v", format, err)
		}
		dst := newEngine(t, "")
		loaded, err := dst.Load(ctx, &buf)
		if err != nil || len(loaded) != 1 {
			t.Fatalf("load %s: %v, %v", format, loaded, err)
		}
		got, err := dst.InspectImage(ctx, host+"/app:1")
		if err != nil || got.ID != pulled.Image.Config.String() {
			t.Fatalf("%s: loaded image %+v, %v; want ID %s", format, got, err, pulled.Image.Config)
		}
		if c := dst.counts(t); c.snapshots != 2 {
			t.Fatalf("%s: loaded image unpacked into %d snapshots, want 2", format, c.snapshots)
		}
	}
}

func TestBadInputLeavesNothing(t *testing.T) {
	ctx := context.Background()
	host := testRegistry(t)
	e := newEngine(t, "")
	for _, name := range []string{host + "/missing:1", "Bad/Name", host + "/app@sha256:" + strings.Repeat("0", 64)} {
		if _, err := e.Pull(ctx, name, PullOptions{}); err == nil {
			t.Errorf("pull %s succeeded", name)
		}
	}
	if _, err := e.Load(ctx, strings.NewReader("not an archive")); err == nil {
		t.Error("load of garbage succeeded")
	}
	if _, err := e.RemoveImage(ctx, "nothing:here", false); !errdefs.IsNotFound(err) {
		t.Errorf("rmi of an unknown image: %v", err)
	}
	if c := e.counts(t); c != (counts{}) {
		t.Fatalf("bad input left %+v", c)
	}
	ingests, _ := os.ReadDir(filepath.Join(e.cfg.Root, "content", "ingest"))
	if len(ingests) != 0 {
		t.Fatalf("bad input left %d ingests", len(ingests))
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
