package unpack

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/berth-project/berth/internal/content"
	"github.com/berth-project/berth/internal/image"
	"github.com/berth-project/berth/internal/linux/mount"
	"github.com/berth-project/berth/internal/snapshot"
	"github.com/berth-project/berth/internal/snapshot/native"
	"github.com/berth-project/berth/internal/snapshot/overlay"
)

// ent is a tar entry for tests; a zero mode gets 0644 (0755 for dirs).
type ent struct {
	name, link, body string
	typ              byte
	mode             int64
	uid, gid         int
}

func file(name, body string) ent   { return ent{name: name, body: body, typ: tar.TypeReg} }
func dir(name string) ent          { return ent{name: name, typ: tar.TypeDir} }
func symlink(name, to string) ent  { return ent{name: name, link: to, typ: tar.TypeSymlink} }
func hardlink(name, to string) ent { return ent{name: name, link: to, typ: tar.TypeLink} }

// tarOf builds an uncompressed layer tar.
func tarOf(t testing.TB, ents ...ent) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range ents {
		mode := e.mode
		if mode == 0 {
			mode = 0o644
			if e.typ == tar.TypeDir {
				mode = 0o755
			}
		}
		hdr := &tar.Header{Name: e.name, Linkname: e.link, Typeflag: e.typ, Mode: mode,
			Uid: e.uid, Gid: e.gid, ModTime: time.Unix(1600000000, 0), Format: tar.FormatPAX}
		if e.typ == tar.TypeReg {
			hdr.Size = int64(len(e.body))
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(tw, e.body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// testLayer is one layer of a test image: its blob and descriptor.
type testLayer struct {
	blob   []byte
	desc   ocispec.Descriptor
	diffID digest.Digest
}

// compression of a test layer.
const (
	plain = iota
	gz
	zst
)

// mkLayer compresses a tar into a layer blob.
func mkLayer(t testing.TB, tarball []byte, comp int) testLayer {
	t.Helper()
	var buf bytes.Buffer
	mt := ocispec.MediaTypeImageLayer
	switch comp {
	case gz:
		zw := gzip.NewWriter(&buf)
		zw.Write(tarball)
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		mt = "application/vnd.docker.image.rootfs.diff.tar.gzip"
	case zst:
		zw, err := zstd.NewWriter(&buf)
		if err != nil {
			t.Fatal(err)
		}
		zw.Write(tarball)
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		mt = ocispec.MediaTypeImageLayerZstd
	default:
		buf.Write(tarball)
	}
	b := buf.Bytes()
	return testLayer{
		blob:   b,
		desc:   ocispec.Descriptor{MediaType: mt, Digest: digest.FromBytes(b), Size: int64(len(b))},
		diffID: digest.FromBytes(tarball),
	}
}

// testImage is a stack of layers.
type testImage []testLayer

func (im testImage) descs() []ocispec.Descriptor {
	var ds []ocispec.Descriptor
	for _, l := range im {
		ds = append(ds, l.desc)
	}
	return ds
}

func (im testImage) diffIDs() []digest.Digest {
	var ds []digest.Digest
	for _, l := range im {
		ds = append(ds, l.diffID)
	}
	return ds
}

func (im testImage) chain() []digest.Digest { return image.ChainIDs(im.diffIDs()) }

// registry serves blobs to a Fetcher that ingests them into a content
// store, counting the fetches per digest.
type registry struct {
	mu      sync.Mutex
	blobs   map[digest.Digest][]byte
	fetches map[digest.Digest]int
	fail    map[digest.Digest]error
}

func newRegistry(ims ...testImage) *registry {
	r := &registry{blobs: map[digest.Digest][]byte{}, fetches: map[digest.Digest]int{}, fail: map[digest.Digest]error{}}
	for _, im := range ims {
		for _, l := range im {
			r.blobs[l.desc.Digest] = l.blob
		}
	}
	return r
}

func (r *registry) fetcher(cs *content.Store) Fetcher {
	return func(ctx context.Context, desc ocispec.Descriptor) error {
		r.mu.Lock()
		r.fetches[desc.Digest]++
		b, ok := r.blobs[desc.Digest]
		err := r.fail[desc.Digest]
		r.mu.Unlock()
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("registry: no blob %s", desc.Digest)
		}
		return cs.Ingest("layer-"+desc.Digest.String(), desc.Digest, desc.Size, func(off int64) (io.ReadCloser, error) {
			return io.NopCloser(bytes.NewReader(b[off:])), nil
		})
	}
}

func (r *registry) count(d digest.Digest) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.fetches[d]
}

// env is one test's content store, snapshotter and lock directory.
type env struct {
	base    string
	cs      *content.Store
	sn      snapshot.Snapshotter
	kind    string
	lockDir string
}

// kinds are the snapshotters every test runs against.
var kinds = []string{"overlay", "native"}

func openSnapshotter(t testing.TB, kind, root string) snapshot.Snapshotter {
	t.Helper()
	var sn snapshot.Snapshotter
	var err error
	switch kind {
	case "overlay":
		if err := overlay.Supported(root); err != nil {
			t.Fatalf("overlay: %v", err)
		}
		sn, err = overlay.New(root, overlay.Options{})
	case "native":
		sn, err = native.New(root)
	default:
		t.Fatalf("snapshotter %q", kind)
	}
	if err != nil {
		t.Fatal(err)
	}
	return sn
}

func newEnv(t testing.TB, kind string) *env {
	t.Helper()
	base := t.TempDir()
	cs, err := content.Open(filepath.Join(base, "content"))
	if err != nil {
		t.Fatal(err)
	}
	sn := openSnapshotter(t, kind, filepath.Join(base, "snapshots"))
	t.Cleanup(func() { sn.Close() })
	return &env{base: base, cs: cs, sn: sn, kind: kind, lockDir: filepath.Join(base, "locks")}
}

func (e *env) snapRoot() string { return filepath.Join(e.base, "snapshots") }

// forEachKind runs f as a subtest per snapshotter.
func forEachKind(t *testing.T, f func(t *testing.T, e *env)) {
	for _, k := range kinds {
		t.Run(k, func(t *testing.T) { f(t, newEnv(t, k)) })
	}
}

// ingest puts the blobs of ims into the content store.
func (e *env) ingest(t testing.TB, ims ...testImage) {
	t.Helper()
	for _, im := range ims {
		for _, l := range im {
			if err := e.cs.Ingest("layer-"+l.desc.Digest.String(), l.desc.Digest, l.desc.Size, func(off int64) (io.ReadCloser, error) {
				return io.NopCloser(bytes.NewReader(l.blob[off:])), nil
			}); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func (e *env) opts() Options { return Options{LockDir: e.lockDir} }

// unpack unpacks im and checks the top chain ID.
func (e *env) unpack(t testing.TB, im testImage, opts Options) {
	t.Helper()
	top, err := Unpack(context.Background(), e.cs, e.sn, im.descs(), im.diffIDs(), opts)
	if err != nil {
		t.Fatalf("Unpack: %v", err)
	}
	if want := im.chain()[len(im)-1]; top != want {
		t.Fatalf("Unpack: top %s, want %s", top, want)
	}
}

// snapshots returns the snapshots by key.
func (e *env) snapshots(t testing.TB) map[string]snapshot.Info {
	t.Helper()
	all := map[string]snapshot.Info{}
	if err := e.sn.Walk(context.Background(), func(i snapshot.Info) error { all[i.Key] = i; return nil }); err != nil {
		t.Fatal(err)
	}
	return all
}

// checkClean fails unless the snapshots are exactly the committed chain IDs
// want, no lock file is left and nothing is mounted under the test's base.
func (e *env) checkClean(t testing.TB, want ...digest.Digest) {
	t.Helper()
	all := e.snapshots(t)
	for _, d := range want {
		if i, ok := all[d.String()]; !ok || i.Kind != snapshot.KindCommitted {
			t.Errorf("snapshot %s: %+v, want committed", d, i)
		}
		delete(all, d.String())
	}
	for k, i := range all {
		t.Errorf("leftover snapshot %s (%s)", k, i.Kind)
	}
	if names, err := os.ReadDir(e.lockDir); err == nil && len(names) > 0 {
		t.Errorf("leftover lock files: %v", names)
	}
	checkNoMounts(t, e.base)
}

// checkNoMounts fails if anything is mounted under dir.
func checkNoMounts(t testing.TB, dir string) {
	t.Helper()
	ms, err := mount.Mounts()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if strings.HasPrefix(m.Point, dir) {
			t.Errorf("leftover mount on %s", m.Point)
		}
	}
}

// tree is what a test expects of a file in a rootfs: its content, or
// "dir", "->target" (a symlink), or "" for absent.
type tree map[string]string

// checkView mounts a view of the snapshot chainID and compares it to want.
func (e *env) checkView(t testing.TB, chainID digest.Digest, want tree) {
	t.Helper()
	ctx := context.Background()
	key := "view-" + chainID.Encoded()[:12]
	ms, err := e.sn.View(ctx, key, chainID.String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer e.sn.Remove(ctx, key)
	if len(ms) != 1 {
		t.Fatalf("view mounts: %v", ms)
	}
	f, err := detach(ms)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	root := fmt.Sprintf("/proc/self/fd/%d", f.Fd())
	for name, w := range want {
		p := filepath.Join(root, name)
		st, err := os.Lstat(p)
		switch {
		case w == "":
			if err == nil {
				t.Errorf("%s exists, want it absent", name)
			}
			continue
		case err != nil:
			t.Errorf("%s: %v", name, err)
			continue
		case w == "dir":
			if !st.IsDir() {
				t.Errorf("%s: %v, want a directory", name, st.Mode())
			}
		case strings.HasPrefix(w, "->"):
			if l, err := os.Readlink(p); err != nil || l != w[2:] {
				t.Errorf("%s: symlink to %q %v, want %q", name, l, err, w[2:])
			}
		default:
			if b, err := os.ReadFile(p); err != nil || string(b) != w {
				t.Errorf("%s: %q %v, want %q", name, b, err, w)
			}
		}
	}
}

// detach mounts the single mount of ms detached.
func detach(ms []mount.Mount) (*os.File, error) {
	if len(ms) != 1 {
		return nil, fmt.Errorf("mounts %v: want one", ms)
	}
	return mount.Detached(ms[0])
}
