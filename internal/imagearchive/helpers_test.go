package imagearchive

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/berth-project/berth/internal/content"
	"github.com/klauspost/compress/gzip"
	digest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

var testTime = time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)

func newStore(t testing.TB) *content.Store {
	t.Helper()
	cs, err := content.Open(filepath.Join(t.TempDir(), "content"))
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// tarEntry is one member of a tar built by makeTar.
type tarEntry struct {
	name     string
	typ      byte
	body     string
	linkname string
}

func makeTar(t testing.TB, entries ...tarEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		typ := e.typ
		if typ == 0 {
			typ = tar.TypeReg
		}
		hdr := &tar.Header{Typeflag: typ, Name: e.name, Linkname: e.linkname, Mode: 0o644, ModTime: testTime, Uid: 0, Gid: 0}
		if typ == tar.TypeReg {
			hdr.Size = int64(len(e.body))
		}
		if typ == tar.TypeDir {
			hdr.Mode = 0o755
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if typ == tar.TypeReg {
			if _, err := io.WriteString(tw, e.body); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// rootfsTar is a small root file system with a hard link and a symlink.
func rootfsTar(t testing.TB, tag string) []byte {
	return makeTar(t,
		tarEntry{name: "etc/", typ: tar.TypeDir},
		tarEntry{name: "etc/hostname", body: "berth-" + tag + "\n"},
		tarEntry{name: "bin/", typ: tar.TypeDir},
		tarEntry{name: "bin/tool", body: "#!/bin/sh\necho " + tag + "\n"},
		tarEntry{name: "bin/tool-link", typ: tar.TypeLink, linkname: "bin/tool"},
		tarEntry{name: "bin/sh", typ: tar.TypeSymlink, linkname: "tool"},
	)
}

func gzipBytes(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func put(t testing.TB, cs *content.Store, mt string, data []byte) ocispec.Descriptor {
	t.Helper()
	d, err := putBlob(cs, data)
	if err != nil {
		t.Fatal(err)
	}
	return ocispec.Descriptor{MediaType: mt, Digest: d, Size: int64(len(data))}
}

func putJSONT(t testing.TB, cs *content.Store, mt string, v any) ocispec.Descriptor {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return put(t, cs, mt, b)
}

// testImage is an image made in a store by makeImage.
type testImage struct {
	manifest ocispec.Descriptor
	config   ocispec.Descriptor
	diffIDs  []digest.Digest
}

// makeImage stores a two-layer image (one gzip layer, one plain) for
// platform p and returns its descriptors.
func makeImage(t testing.TB, cs *content.Store, tag string, p ocispec.Platform) testImage {
	t.Helper()
	base := rootfsTar(t, tag)
	top := makeTar(t, tarEntry{name: "etc/motd", body: "hello from " + tag + "\n"}, tarEntry{name: "etc/.wh.hostname"})
	l1 := put(t, cs, ocispec.MediaTypeImageLayerGzip, gzipBytes(t, base))
	l2 := put(t, cs, ocispec.MediaTypeImageLayer, top)
	diffIDs := []digest.Digest{digest.FromBytes(base), digest.FromBytes(top)}
	created := testTime
	config := putJSONT(t, cs, ocispec.MediaTypeImageConfig, ocispec.Image{
		Created:  &created,
		Platform: p,
		Config:   ocispec.ImageConfig{Cmd: []string{"/bin/sh"}, Env: []string{"TAG=" + tag}},
		RootFS:   ocispec.RootFS{Type: "layers", DiffIDs: diffIDs},
		History:  []ocispec.History{{Created: &created, CreatedBy: "test " + tag}, {Created: &created, CreatedBy: "motd"}},
	})
	manifest := putJSONT(t, cs, ocispec.MediaTypeImageManifest, ocispec.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageManifest,
		Config:    config,
		Layers:    []ocispec.Descriptor{l1, l2},
	})
	pp := p
	manifest.Platform = &pp
	return testImage{manifest: manifest, config: config, diffIDs: diffIDs}
}

// makeIndex stores an index over the host's image and one for another
// platform whose blobs are not in the store (never pulled).
func makeIndex(t testing.TB, cs *content.Store, host testImage) ocispec.Descriptor {
	t.Helper()
	other := ocispec.Descriptor{
		MediaType: ocispec.MediaTypeImageManifest,
		Digest:    digest.FromString("a manifest of another platform"),
		Size:      1234,
		Platform:  &ocispec.Platform{OS: "linux", Architecture: "s390x"},
	}
	return putJSONT(t, cs, ocispec.MediaTypeImageIndex, ocispec.Index{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageIndex,
		Manifests: []ocispec.Descriptor{other, host.manifest},
	})
}

// storeState lists the blobs and the entries of the ingest area of a store.
func storeState(t testing.TB, cs *content.Store) []string {
	t.Helper()
	var state []string
	if err := cs.Walk(func(i content.Info) error {
		state = append(state, i.Digest.String())
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir(filepath.Join(cs.Root(), "ingest"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	for _, e := range ents {
		state = append(state, "ingest/"+e.Name())
	}
	slices.Sort(state)
	return state
}

func save(t testing.TB, cs *content.Store, format Format, images ...Named) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Save(context.Background(), &buf, cs, images, format); err != nil {
		t.Fatalf("save %s: %v", format, err)
	}
	return buf.Bytes()
}

// tarMembers returns the regular members of a tar by name.
func tarMembers(t testing.TB, b []byte) (map[string][]byte, []string) {
	t.Helper()
	files := map[string][]byte{}
	var order []string
	tr := tar.NewReader(bytes.NewReader(b))
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return files, order
		}
		if err != nil {
			t.Fatal(err)
		}
		order = append(order, hdr.Name)
		if hdr.Typeflag == tar.TypeReg {
			data, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			files[hdr.Name] = data
		}
	}
}

// configOf reads the config of the manifest (or host manifest of an index)
// desc from cs.
func configOf(t testing.TB, cs *content.Store, desc ocispec.Descriptor) (ocispec.Manifest, ocispec.Image) {
	t.Helper()
	md, err := platformManifest(cs, desc)
	if err != nil {
		t.Fatal(err)
	}
	data, err := readDocument(cs, md)
	if err != nil {
		t.Fatal(err)
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	cdata, err := readDocument(cs, m.Config)
	if err != nil {
		t.Fatal(err)
	}
	var img ocispec.Image
	if err := json.Unmarshal(cdata, &img); err != nil {
		t.Fatal(err)
	}
	return m, img
}
