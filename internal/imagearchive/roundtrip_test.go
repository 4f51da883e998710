package imagearchive

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"slices"
	"testing"

	"github.com/berth-project/berth/internal/content"
	"github.com/berth-project/berth/internal/errdefs"
	"github.com/klauspost/compress/zstd"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

const busybox = "docker.io/library/busybox:latest"

func load(t *testing.T, cs *content.Store, archive []byte) []Named {
	t.Helper()
	images, err := Load(context.Background(), bytes.NewReader(archive), cs)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	return images
}

// checkImage checks that the image desc in cs has img's config and layers
// (by diffID, decompressing each layer).
func checkImage(t *testing.T, cs *content.Store, desc ocispec.Descriptor, img testImage) {
	t.Helper()
	m, cfg := configOf(t, cs, desc)
	if m.Config.Digest != img.config.Digest {
		t.Errorf("config %s, want %s", m.Config.Digest, img.config.Digest)
	}
	if !slices.Equal(cfg.RootFS.DiffIDs, img.diffIDs) {
		t.Errorf("diffIDs %v, want %v", cfg.RootFS.DiffIDs, img.diffIDs)
	}
	for i, l := range m.Layers {
		_, got, err := uncompressedDigest(cs, l.Digest)
		if err != nil {
			t.Fatal(err)
		}
		if got != img.diffIDs[i] {
			t.Errorf("layer %d (%s, %s) decompresses to %s, want %s", i, l.Digest, l.MediaType, got, img.diffIDs[i])
		}
	}
}

func TestSaveLoadDockerArchive(t *testing.T) {
	src := newStore(t)
	img := makeImage(t, src, "a", hostPlatform())
	other := makeImage(t, src, "b", hostPlatform())
	images := []Named{
		{Name: busybox, Target: img.manifest},
		{Name: "localhost:5000/team/app:1.0", Target: img.manifest},
		{Name: "", Target: other.manifest},
	}
	ar := save(t, src, DockerArchive, images...)

	files, order := tarMembers(t, ar)
	var mj []dockerManifestEntry
	if err := json.Unmarshal(files["manifest.json"], &mj); err != nil {
		t.Fatalf("manifest.json: %v", err)
	}
	if len(mj) != 2 || mj[0].Config != blobName(img.config.Digest) ||
		!slices.Equal(mj[0].RepoTags, []string{busybox, "localhost:5000/team/app:1.0"}) || len(mj[1].RepoTags) != 0 {
		t.Fatalf("manifest.json %+v", mj)
	}
	for i, l := range mj[0].Layers {
		if l != blobName(img.diffIDs[i]) || digest.FromBytes(files[l]) != img.diffIDs[i] {
			t.Errorf("layer %d: %s is not the uncompressed layer %s", i, l, img.diffIDs[i])
		}
	}
	if order[len(order)-2] != "manifest.json" || order[len(order)-1] != "repositories" {
		t.Errorf("manifest.json and repositories are not last: %v", order)
	}
	var repos map[string]map[string]string
	if err := json.Unmarshal(files["repositories"], &repos); err != nil || repos["docker.io/library/busybox"]["latest"] != img.diffIDs[1].Encoded() {
		t.Errorf("repositories %s (%v)", files["repositories"], err)
	}

	dst := newStore(t)
	got := load(t, dst, ar)
	names := []string{}
	for _, n := range got {
		names = append(names, n.Name)
	}
	if !slices.Equal(names, []string{busybox, "localhost:5000/team/app:1.0", ""}) {
		t.Fatalf("loaded names %q", names)
	}
	if got[0].Target.Digest != got[1].Target.Digest || got[0].Target.MediaType != ocispec.MediaTypeImageManifest {
		t.Errorf("loaded targets %+v", got)
	}
	if p := got[0].Target.Platform; p == nil || p.OS != "linux" || p.Architecture != hostPlatform().Architecture {
		t.Errorf("loaded platform %+v", p)
	}
	checkImage(t, dst, got[0].Target, img)
	checkImage(t, dst, got[2].Target, other)

	// Loading again changes nothing and gives the same images.
	before := storeState(t, dst)
	if again := load(t, dst, ar); !slices.EqualFunc(again, got, func(a, b Named) bool {
		return a.Name == b.Name && a.Target.Digest == b.Target.Digest
	}) {
		t.Errorf("second load %+v, first %+v", again, got)
	}
	if after := storeState(t, dst); !slices.Equal(before, after) {
		t.Errorf("second load changed the store: %v → %v", before, after)
	}

	// What was loaded saves to the same archive members.
	re := save(t, dst, DockerArchive, got...)
	refiles, _ := tarMembers(t, re)
	for name, data := range files {
		if !bytes.Equal(refiles[name], data) {
			t.Errorf("re-saved %s differs", name)
		}
	}
}

func TestSaveLoadOCIArchive(t *testing.T) {
	src := newStore(t)
	img := makeImage(t, src, "a", hostPlatform())
	idx := makeIndex(t, src, img)
	images := []Named{{Name: busybox, Target: idx}, {Name: "docker.io/library/single:v1", Target: img.manifest}}
	ar := save(t, src, OCIArchive, images...)

	files, _ := tarMembers(t, ar)
	var index ocispec.Index
	if err := json.Unmarshal(files["index.json"], &index); err != nil {
		t.Fatal(err)
	}
	if len(index.Manifests) != 2 || index.Manifests[0].Digest != idx.Digest ||
		index.Manifests[0].Annotations[annotationImageName] != busybox ||
		index.Manifests[0].Annotations[ocispec.AnnotationRefName] != "latest" ||
		index.Manifests[1].Annotations[ocispec.AnnotationRefName] != "v1" {
		t.Fatalf("index.json %s", files["index.json"])
	}
	if string(files["oci-layout"]) != `{"imageLayoutVersion":"1.0.0"}` {
		t.Errorf("oci-layout %s", files["oci-layout"])
	}
	for name, data := range files {
		if d, ok := blobDigest(name); ok && digest.FromBytes(data) != d {
			t.Errorf("%s holds %s", name, digest.FromBytes(data))
		}
	}

	dst := newStore(t)
	got := load(t, dst, ar)
	if len(got) != 2 || got[0].Name != busybox || got[0].Target.Digest != idx.Digest || got[0].Target.MediaType != ocispec.MediaTypeImageIndex ||
		got[1].Name != "docker.io/library/single:v1" || got[1].Target.Digest != img.manifest.Digest || got[1].Target.Annotations != nil {
		t.Fatalf("loaded %+v", got)
	}
	checkImage(t, dst, got[0].Target, img)
	if want := storeState(t, src); !slices.Equal(storeState(t, dst), want) {
		t.Errorf("loaded store %v, want %v", storeState(t, dst), want)
	}

	// A docker-archive of the index holds the host's manifest.
	dar := save(t, src, DockerArchive, images[0])
	third := newStore(t)
	got = load(t, third, dar)
	checkImage(t, third, got[0].Target, img)
}

func TestLoadCompressedArchive(t *testing.T) {
	src := newStore(t)
	img := makeImage(t, src, "a", hostPlatform())
	for _, format := range []Format{DockerArchive, OCIArchive} {
		ar := save(t, src, format, Named{Name: busybox, Target: img.manifest})
		var zbuf bytes.Buffer
		zw, _ := zstd.NewWriter(&zbuf)
		zw.Write(ar)
		zw.Close()
		for kind, data := range map[string][]byte{"gzip": gzipBytes(t, ar), "zstd": zbuf.Bytes()} {
			dst := newStore(t)
			got := load(t, dst, data)
			if len(got) != 1 || got[0].Name != busybox {
				t.Fatalf("%s %s: %+v", format, kind, got)
			}
			checkImage(t, dst, got[0].Target, img)
		}
	}
}

// Docker writes manifest.json last, others first; legacy archives name
// layers <id>/layer.tar and link identical ones; layers may be compressed.
func TestLoadDockerArchiveAnyOrderAndNames(t *testing.T) {
	base := rootfsTar(t, "a")
	cfg, _ := json.Marshal(ocispec.Image{
		Platform: hostPlatform(),
		RootFS:   ocispec.RootFS{Type: "layers", DiffIDs: []digest.Digest{digest.FromBytes(base), digest.FromBytes(base)}},
	})
	cfgName := digest.FromBytes(cfg).Encoded() + ".json"
	mj, _ := json.Marshal([]dockerManifestEntry{{Config: cfgName, RepoTags: []string{"app:1"}, Layers: []string{"aaa/layer.tar", "./bbb/layer.tar"}}})
	entries := []tarEntry{
		{name: "manifest.json", body: string(mj)},
		{name: "aaa/", typ: '5'},
		{name: "aaa/VERSION", body: "1.0"},
		{name: "aaa/layer.tar", body: string(gzipBytes(t, base))},
		{name: "bbb/layer.tar", typ: '2', linkname: "../aaa/layer.tar"},
		{name: cfgName, body: string(cfg)},
	}
	var want []Named
	for i := range 2 {
		if i == 1 {
			slices.Reverse(entries) // the link comes before its target
		}
		cs := newStore(t)
		got := load(t, cs, makeTar(t, entries...))
		if len(got) != 1 || got[0].Name != "docker.io/library/app:1" {
			t.Fatalf("loaded %+v", got)
		}
		m, _ := configOf(t, cs, got[0].Target)
		if len(m.Layers) != 2 || m.Layers[0].Digest != m.Layers[1].Digest || m.Layers[0].MediaType != ocispec.MediaTypeImageLayerGzip {
			t.Errorf("manifest layers %+v", m.Layers)
		}
		if want != nil && got[0].Target.Digest != want[0].Target.Digest {
			t.Errorf("member order changed the manifest: %s, %s", got[0].Target.Digest, want[0].Target.Digest)
		}
		want = got
		// Only the config, the layer and the manifest made for them are kept.
		if n := len(storeState(t, cs)); n != 3 {
			t.Errorf("store holds %d entries: %v", n, storeState(t, cs))
		}
	}
}

func TestSaveErrors(t *testing.T) {
	cs := newStore(t)
	img := makeImage(t, cs, "a", hostPlatform())
	ctx := context.Background()
	for name, tc := range map[string]struct {
		images []Named
		format Format
		class  func(error) bool
	}{
		"no images":      {nil, DockerArchive, errdefs.IsInvalidArgument},
		"bad name":       {[]Named{{Name: "UPPER/x", Target: img.manifest}}, OCIArchive, errdefs.IsInvalidArgument},
		"bad format":     {[]Named{{Target: img.manifest}}, "tarball", errdefs.IsInvalidArgument},
		"missing target": {[]Named{{Target: ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.FromString("x"), Size: 1}}}, OCIArchive, errdefs.IsNotFound},
		"no platform": {[]Named{{Target: makeIndex(t, cs, makeImage(t, cs, "z", ocispec.Platform{OS: "linux", Architecture: "mips64"}))}},
			DockerArchive, errdefs.IsNotFound},
	} {
		err := Save(ctx, io.Discard, cs, tc.images, tc.format)
		if !tc.class(err) {
			t.Errorf("%s: %v", name, err)
		}
	}
}
