package imagearchive

import (
	"bytes"
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/klauspost/compress/zstd"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func TestImport(t *testing.T) {
	rootfs := rootfsTar(t, "imported")
	var zbuf bytes.Buffer
	zw, _ := zstd.NewWriter(&zbuf)
	zw.Write(rootfs)
	zw.Close()
	opts := ImportOptions{
		Source:  "rootfs.tar",
		Message: "first import",
		Changes: []string{`CMD ["/bin/sh"]`, "ENV A=1", "EXPOSE 8080", "WORKDIR /srv", "USER 1000"},
		Created: testTime,
	}
	var first ocispec.Descriptor
	for kind, input := range map[string][]byte{"plain": rootfs, "gzip": gzipBytes(t, rootfs), "zstd": zbuf.Bytes()} {
		cs := newStore(t)
		desc, err := Import(context.Background(), bytes.NewReader(input), cs, opts)
		if err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		if desc.MediaType != ocispec.MediaTypeImageManifest || desc.Platform == nil || !reflect.DeepEqual(*desc.Platform, hostPlatform()) {
			t.Errorf("%s: descriptor %+v", kind, desc)
		}
		// The same tar gives the same image, however it came compressed.
		if first.Digest == "" {
			first = desc
		} else if desc.Digest != first.Digest {
			t.Errorf("%s: manifest %s, another input gave %s", kind, desc.Digest, first.Digest)
		}
		m, img := configOf(t, cs, desc)
		if len(m.Layers) != 1 || m.Layers[0].MediaType != ocispec.MediaTypeImageLayerGzip {
			t.Fatalf("%s: layers %+v", kind, m.Layers)
		}
		_, diffID, err := uncompressedDigest(cs, m.Layers[0].Digest)
		if err != nil {
			t.Fatal(err)
		}
		if want := digest.FromBytes(rootfs); diffID != want || !slices.Equal(img.RootFS.DiffIDs, []digest.Digest{want}) {
			t.Errorf("%s: layer diffID %s, config %v, want %s", kind, diffID, img.RootFS.DiffIDs, want)
		}
		if !img.Created.Equal(testTime) || img.OS != "linux" || img.Architecture != hostPlatform().Architecture ||
			len(img.History) != 1 || img.History[0].CreatedBy != "imported from rootfs.tar" || img.History[0].Comment != "first import" {
			t.Errorf("%s: config %+v", kind, img)
		}
		c := img.Config
		if !slices.Equal(c.Cmd, []string{"/bin/sh"}) || !slices.Equal(c.Env, []string{"A=1"}) || c.WorkingDir != "/srv" || c.User != "1000" {
			t.Errorf("%s: config %+v", kind, c)
		}
		if _, ok := c.ExposedPorts["8080/tcp"]; !ok {
			t.Errorf("%s: ports %v", kind, c.ExposedPorts)
		}
		if s := storeState(t, cs); len(s) != 3 {
			t.Errorf("%s: store %v, want the layer, config and manifest", kind, s)
		}
		// The imported image saves and loads.
		got := load(t, newStore(t), save(t, cs, DockerArchive, Named{Name: busybox, Target: desc}))
		if len(got) != 1 || got[0].Name != busybox {
			t.Errorf("%s: reloaded %+v", kind, got)
		}
	}
}

func TestImportNow(t *testing.T) {
	cs := newStore(t)
	start := time.Now()
	desc, err := Import(context.Background(), bytes.NewReader(rootfsTar(t, "x")), cs, ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, img := configOf(t, cs, desc)
	if img.Created == nil || img.Created.Before(start.Add(-time.Second)) || img.History[0].CreatedBy != "imported from -" {
		t.Errorf("config %+v", img)
	}
}

func TestImportRefused(t *testing.T) {
	rootfs := rootfsTar(t, "x")
	for name, tc := range map[string]struct {
		input   []byte
		changes []string
		want    string
	}{
		"bad change":  {rootfs, []string{"RUN rm -rf /"}, "RUN is not an instruction"},
		"empty":       {nil, nil, "empty"},
		"garbage":     {bytes.Repeat([]byte("not a tar "), 100), nil, "not a tar archive"},
		"truncated":   {rootfs[:700], nil, "truncated"},
		"no end":      {rootfs[:len(rootfs)-1024], nil, "end-of-archive"},
		"cut gzip":    {gzipBytes(t, rootfs)[:100], nil, "truncated"},
		"bad port":    {rootfs, []string{"EXPOSE 99999"}, "not a port"},
		"bad sig":     {rootfs, []string{"STOPSIGNAL SIGFOO"}, "not a signal"},
		"bad env":     {rootfs, []string{`ENV A="x`}, "unterminated"},
		"no argument": {rootfs, []string{"WORKDIR"}, "needs an argument"},
	} {
		cs := newStore(t)
		_, err := Import(context.Background(), bytes.NewReader(tc.input), cs, ImportOptions{Changes: tc.changes})
		if !errdefs.IsInvalidArgument(err) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an invalid-argument error with %q", name, err, tc.want)
		}
		if s := storeState(t, cs); len(s) != 0 {
			t.Errorf("%s: store %v", name, s)
		}
	}
}
