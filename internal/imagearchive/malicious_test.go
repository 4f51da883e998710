package imagearchive

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/berth-project/berth/internal/errdefs"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// goodDocker returns the members of a valid docker-archive: one layer.
func goodDocker(t *testing.T) (cfg []byte, layer []byte, mj func(e ...dockerManifestEntry) string) {
	layer = rootfsTar(t, "m")
	cfg, _ = json.Marshal(ocispec.Image{Platform: hostPlatform(), RootFS: ocispec.RootFS{Type: "layers", DiffIDs: []digest.Digest{digest.FromBytes(layer)}}})
	mj = func(e ...dockerManifestEntry) string {
		if e == nil {
			e = []dockerManifestEntry{{Config: blobName(digest.FromBytes(cfg)), RepoTags: []string{"evil:1"}, Layers: []string{blobName(digest.FromBytes(layer))}}}
		}
		b, _ := json.Marshal(e)
		return string(b)
	}
	return cfg, layer, mj
}

func TestLoadMaliciousArchives(t *testing.T) {
	cfg, layer, mj := goodDocker(t)
	cfgName, layerName := blobName(digest.FromBytes(cfg)), blobName(digest.FromBytes(layer))
	good := []tarEntry{{name: cfgName, body: string(cfg)}, {name: layerName, body: string(layer)}, {name: "manifest.json", body: mj()}}
	goodTar := makeTar(t, good...)
	// The good archive loads: each case below breaks one thing.
	if got := load(t, newStore(t), goodTar); len(got) != 1 {
		t.Fatalf("good archive: %+v", got)
	}
	with := func(extra ...tarEntry) []byte { return makeTar(t, append(slices.Clone(good), extra...)...) }
	bigJSON := `[` + strings.Repeat(" ", MaxDocumentSize) + `]`

	// An OCI layout whose blob is a symlink to a host file.
	ociIndex := func(d digest.Digest, size int64) string {
		b, _ := json.Marshal(ocispec.Index{Manifests: []ocispec.Descriptor{{MediaType: ocispec.MediaTypeImageManifest, Digest: d, Size: size}}})
		return string(b)
	}
	manifest, _ := json.Marshal(ocispec.Manifest{MediaType: ocispec.MediaTypeImageManifest,
		Config: ocispec.Descriptor{MediaType: ocispec.MediaTypeImageConfig, Digest: digest.FromBytes(cfg), Size: int64(len(cfg))},
		Layers: []ocispec.Descriptor{{MediaType: ocispec.MediaTypeImageLayer, Digest: digest.FromBytes(layer), Size: int64(len(layer))}}})
	md := digest.FromBytes(manifest)
	oci := func(extra ...tarEntry) []byte {
		return makeTar(t, append([]tarEntry{
			{name: "oci-layout", body: `{"imageLayoutVersion":"1.0.0"}`},
			{name: "index.json", body: ociIndex(md, int64(len(manifest)))},
			{name: blobName(md), body: string(manifest)},
		}, extra...)...)
	}
	if got := load(t, newStore(t), oci(tarEntry{name: cfgName, body: string(cfg)}, tarEntry{name: layerName, body: string(layer)})); len(got) != 1 {
		t.Fatalf("good OCI archive: %+v", got)
	}

	for name, tc := range map[string]struct {
		archive []byte
		want    string
		class   func(error) bool
	}{
		"dot-dot member":      {with(tarEntry{name: "../x", body: "x"}), `names ".."`, errdefs.IsInvalidArgument},
		"inner dot-dot":       {with(tarEntry{name: "blobs/../../x", body: "x"}), `names ".."`, errdefs.IsInvalidArgument},
		"absolute member":     {with(tarEntry{name: "/etc/x", body: "x"}), "not a relative name", errdefs.IsInvalidArgument},
		"duplicate member":    {with(tarEntry{name: "manifest.json", body: mj()}), "appears twice", errdefs.IsInvalidArgument},
		"oversized manifest":  {makeTar(t, good[0], good[1], tarEntry{name: "manifest.json", body: bigJSON}), "not a JSON document", errdefs.IsInvalidArgument},
		"manifest not JSON":   {makeTar(t, good[0], good[1], tarEntry{name: "manifest.json", body: "[{"}), "manifest.json", errdefs.IsInvalidArgument},
		"blob digest forged":  {makeTar(t, tarEntry{name: cfgName, body: string(cfg) + " "}, good[1], good[2]), "content has digest", errdefs.IsInvalidArgument},
		"layer diffID forged": {makeTar(t, good[0], tarEntry{name: layerName, body: string(rootfsTar(t, "other"))}, good[2]), "content has digest", errdefs.IsInvalidArgument},
		"layer under other name": {makeTar(t, good[0], tarEntry{name: "l.tar", body: string(rootfsTar(t, "other"))},
			tarEntry{name: "manifest.json", body: mj(dockerManifestEntry{Config: cfgName, Layers: []string{"l.tar"}})}), "diffID", errdefs.IsInvalidArgument},
		"missing layer":       {makeTar(t, good[0], good[2]), "not found", errdefs.IsNotFound},
		"layer count":         {makeTar(t, good[0], good[1], tarEntry{name: "manifest.json", body: mj(dockerManifestEntry{Config: cfgName})}), "1 diffIDs for 0 layers", errdefs.IsInvalidArgument},
		"manifest names ../":  {makeTar(t, good[0], good[1], tarEntry{name: "manifest.json", body: mj(dockerManifestEntry{Config: "../" + cfgName})}), `names ".."`, errdefs.IsInvalidArgument},
		"symlinked layer out": {makeTar(t, good[0], tarEntry{name: layerName, typ: '2', linkname: "/etc/passwd"}, good[2]), "absolute path", errdefs.IsInvalidArgument},
		"symlink escapes":     {makeTar(t, good[0], tarEntry{name: layerName, typ: '2', linkname: "../../../../etc/passwd"}, good[2]), "outside the archive", errdefs.IsInvalidArgument},
		"hard link out":       {makeTar(t, good[0], tarEntry{name: layerName, typ: '1', linkname: "/etc/passwd"}, good[2]), "absolute path", errdefs.IsInvalidArgument},
		"dangling link":       {makeTar(t, good[0], tarEntry{name: layerName, typ: '2', linkname: "nothing"}, good[2]), "not found", errdefs.IsNotFound},
		"link loop":           {makeTar(t, good[0], tarEntry{name: layerName, typ: '2', linkname: "x"}, tarEntry{name: "blobs/sha256/x", typ: '2', linkname: digest.FromBytes(layer).Encoded()}, good[2]), "links", errdefs.IsInvalidArgument},
		"bad repo tag":        {makeTar(t, good[0], good[1], tarEntry{name: "manifest.json", body: mj(dockerManifestEntry{Config: cfgName, RepoTags: []string{"Bad Name"}, Layers: []string{layerName}})}), "Bad Name", errdefs.IsInvalidArgument},
		"truncated":           {goodTar[:len(goodTar)/2], "truncated", errdefs.IsInvalidArgument},
		"cut at a member end": {goodTar[:len(goodTar)-1024], "end-of-archive", errdefs.IsInvalidArgument},
		"truncated in header": {goodTar[:700], "truncated", errdefs.IsInvalidArgument},
		"garbage":             {bytes.Repeat([]byte("garbage!"), 200), "not a tar archive", errdefs.IsInvalidArgument},
		"empty":               {nil, "empty", errdefs.IsInvalidArgument},
		"no manifest":         {makeTar(t, good[0], good[1]), "neither manifest.json nor oci-layout", errdefs.IsInvalidArgument},
		"truncated gzip":      {gzipBytes(t, goodTar)[:600], "truncated", errdefs.IsInvalidArgument},

		"oci symlinked blob": {oci(tarEntry{name: cfgName, body: string(cfg)}, tarEntry{name: layerName, typ: '2', linkname: "/etc/passwd"}), "absolute path", errdefs.IsInvalidArgument},
		"oci forged blob":    {oci(tarEntry{name: cfgName, body: string(cfg)}, tarEntry{name: layerName, body: "other"}), "content has digest", errdefs.IsInvalidArgument},
		"oci missing config": {oci(tarEntry{name: layerName, body: string(layer)}), "not found", errdefs.IsNotFound},
		"oci size lies": {makeTar(t, tarEntry{name: "oci-layout", body: `{"imageLayoutVersion":"1.0.0"}`},
			tarEntry{name: "index.json", body: ociIndex(md, 3)}, tarEntry{name: blobName(md), body: string(manifest)}), "its descriptor says 3", errdefs.IsInvalidArgument},
		"oci layout version": {makeTar(t, tarEntry{name: "oci-layout", body: `{"imageLayoutVersion":"9"}`}, tarEntry{name: "index.json", body: ociIndex(md, 3)}), "version", errdefs.IsInvalidArgument},
		"oci no index":       {makeTar(t, tarEntry{name: "oci-layout", body: `{"imageLayoutVersion":"1.0.0"}`}), "index.json", errdefs.IsNotFound},
		"oci ambiguous": {makeTar(t, tarEntry{name: "oci-layout", body: `{"imageLayoutVersion":"1.0.0"}`},
			tarEntry{name: "index.json", body: `{"manifests":[],"layers":[]}`}), "both an index and a manifest", errdefs.IsInvalidArgument},
	} {
		t.Run(name, func(t *testing.T) {
			cs := newStore(t)
			before := storeState(t, cs)
			got, err := Load(context.Background(), bytes.NewReader(tc.archive), cs)
			if err == nil || !tc.class(err) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Load = %+v, %v; want an error with %q", got, err, tc.want)
			}
			if after := storeState(t, cs); !slices.Equal(before, after) {
				t.Errorf("failed load left %v in the store", after)
			}
		})
	}
}

func TestLoadBounds(t *testing.T) {
	// Many JSON documents, each within bounds, exceed the total.
	var entries []tarEntry
	doc := `{"x":"` + strings.Repeat("y", MaxDocumentSize-16) + `"}`
	for i := 0; i*len(doc) <= MaxDocumentsSize; i++ {
		entries = append(entries, tarEntry{name: "doc" + strings.Repeat("x", i%7) + digest.FromString(doc+string(rune(i))).Encoded(), body: doc})
	}
	cs := newStore(t)
	if _, err := Load(context.Background(), bytes.NewReader(makeTar(t, entries...)), cs); !errdefs.IsInvalidArgument(err) || !strings.Contains(err.Error(), "in all") {
		t.Fatalf("Load: %v", err)
	}
	if s := storeState(t, cs); len(s) != 0 {
		t.Errorf("store: %v", s)
	}
}

func TestLoadCanceled(t *testing.T) {
	cfg, layer, mj := goodDocker(t)
	ar := makeTar(t, tarEntry{name: blobName(digest.FromBytes(cfg)), body: string(cfg)},
		tarEntry{name: blobName(digest.FromBytes(layer)), body: string(layer) + strings.Repeat("\x00", 200<<10)}, tarEntry{name: "manifest.json", body: mj()})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	cs := newStore(t)
	if _, err := Load(ctx, bytes.NewReader(ar), cs); err == nil || errdefs.IsInvalidArgument(err) {
		t.Fatalf("Load with a canceled context: %v", err)
	}
	if s := storeState(t, cs); len(s) != 0 {
		t.Errorf("store: %v", s)
	}
}
