package kit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	v1 "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/archive"
	"github.com/berth-project/berth/internal/image"
	"github.com/berth-project/berth/internal/testenv"
	"github.com/berth-project/berth/test/kit"
)

// skopeoInspect returns `skopeo inspect [--config] ref`, parsed into v.
func skopeoInspect(t *testing.T, v any, args ...string) {
	t.Helper()
	skopeo := testenv.RequiresBinary(t, "skopeo")
	cmd := exec.Command(skopeo, append([]string{"inspect"}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%v: %v\n%s", cmd.Args, err, stderr.Bytes())
	}
	if err := json.Unmarshal(out, v); err != nil {
		t.Fatalf("%v: %v\n%s", cmd.Args, err, out)
	}
}

func TestBusyboxImage(t *testing.T) {
	img := kit.BusyboxImage(t, "")
	var inspect struct {
		Digest string
		Layers []string
		Env    []string
	}
	skopeoInspect(t, &inspect, img.OCIRef())
	if inspect.Digest != img.Digest().String() || len(inspect.Layers) != 1 || !slices.Equal(inspect.Env, []string{kit.DefaultPath}) {
		t.Errorf("skopeo inspect %s: %+v, want digest %s and one layer", img.OCIRef(), inspect, img.Digest())
	}
	var config v1.Image
	skopeoInspect(t, &config, "--config", img.OCIRef())
	if !slices.Equal(config.Config.Cmd, []string{"sh"}) {
		t.Errorf("Cmd %q, want [sh]", config.Config.Cmd)
	}

	// OCILayout's image has the same layer (and another config).
	dir := filepath.Join(t.TempDir(), "layout")
	kit.OCILayout(t, dir, "latest")
	var layout struct{ Layers []string }
	skopeoInspect(t, &layout, "oci:"+dir+":latest")
	if !slices.Equal(layout.Layers, inspect.Layers) {
		t.Errorf("OCILayout layers %v, BusyboxImage's %v", layout.Layers, inspect.Layers)
	}

	// Its tree is the one Rootfs builds.
	rootfs := filepath.Join(t.TempDir(), "rootfs")
	kit.Rootfs(t, rootfs)
	kit.CheckTree(t, rootfs, kit.ExpectedTree(t, img))
}

func TestBigImage(t *testing.T) {
	big := kit.BigImage(t, "")
	child := kit.BigImageChild(t, "")
	busybox := kit.BusyboxImage(t, "")

	for _, img := range []kit.Image{big, child} {
		var inspect struct {
			Digest string
			Layers []string
		}
		skopeoInspect(t, &inspect, img.OCIRef())
		if inspect.Digest != img.Digest().String() || len(inspect.Layers) != len(img.Layers) {
			t.Errorf("skopeo inspect %s: %+v, want digest %s and %d layers", img.OCIRef(), inspect, img.Digest(), len(img.Layers))
		}
	}

	// Shared layers: busybox's one and child's bottom four.
	bigChain, childChain := image.ChainIDs(big.DiffIDs), image.ChainIDs(child.DiffIDs)
	if big.Layers[0].Digest != busybox.Layers[0].Digest || bigChain[0] != image.ChainIDs(busybox.DiffIDs)[0] {
		t.Errorf("the bottom layer of the big image is %s, the busybox layer %s", big.Layers[0].Digest, busybox.Layers[0].Digest)
	}
	if len(child.Layers) != 5 || childChain[3] != bigChain[3] || childChain[4] == bigChain[4] {
		t.Errorf("child chain IDs %v, big %v: want the bottom four shared", childChain, bigChain)
	}

	// Every kind of layer blob, and the size the doc promises.
	types := map[string]int{}
	var blobs, unpacked int64
	for _, l := range big.Layers {
		types[l.MediaType]++
		blobs += l.Size
	}
	files := 0
	for _, n := range kit.ExpectedTree(t, big) {
		if n.Mode.IsRegular() {
			files++
		}
		unpacked += n.Size
	}
	if types[v1.MediaTypeImageLayerGzip] < 1 || types[v1.MediaTypeImageLayerZstd] != 1 || types[v1.MediaTypeImageLayer] != 1 {
		t.Errorf("layer media types %v", types)
	}
	t.Logf("big image: %d layers, %d MB of blobs, %d files of %d MB", len(big.Layers), blobs>>20, files, unpacked>>20)
	if unpacked < 150<<20 || unpacked > 250<<20 || blobs < 80<<20 {
		t.Errorf("big image: %d bytes of blobs, %d bytes unpacked", blobs, unpacked)
	}
}

// TestExpectedTree applies the big image's layers with internal/archive onto
// a plain directory and checks the result against ExpectedTree: the layer
// definitions and the OCI rules worked out in memory agree with a real
// unpack (and CheckTree with a real tree).
func TestExpectedTree(t *testing.T) {
	testenv.RequiresRoot(t) // owners, setuid bits
	if testing.Short() {
		t.Skip("unpacks 200 MB")
	}
	img := kit.BigImage(t, "")
	want := kit.ExpectedTree(t, img)
	checkSamples(t, img.Ref, want)
	root := t.TempDir()
	for _, l := range img.Layers {
		applyLayer(t, img, l, root, false)
	}
	kit.CheckTree(t, root, want)
}

// TestExpectedTreeOverlay applies each layer of the big image and its child
// to a dir of its own, as an overlayfs upper dir, and mounts each image's
// stack as one read-only overlay: the tree a container would see.
func TestExpectedTreeOverlay(t *testing.T) {
	testenv.RequiresRoot(t)
	if testing.Short() {
		t.Skip("unpacks 200 MB")
	}
	base := t.TempDir()
	applied := map[string]string{} // layer digest → its dir
	for _, img := range []kit.Image{kit.BigImage(t, ""), kit.BigImageChild(t, "")} {
		want := kit.ExpectedTree(t, img)
		checkSamples(t, img.Ref, want)
		var lowers []string
		for _, l := range img.Layers {
			dir, ok := applied[l.Digest.String()]
			if !ok {
				dir = filepath.Join(base, l.Digest.Encoded()[:12])
				must(t, os.Mkdir(dir, 0o755))
				applyLayer(t, img, l, dir, true)
				applied[l.Digest.String()] = dir
			}
			lowers = append([]string{dir}, lowers...) // the top layer first
		}
		target := filepath.Join(base, img.Ref)
		must(t, os.Mkdir(target, 0o755))
		if err := unix.Mount("overlay", target, "overlay", unix.MS_RDONLY, "lowerdir="+strings.Join(lowers, ":")); err != nil {
			t.Fatalf("mount overlay: %v", err)
		}
		kit.CheckTree(t, target, want)
		if err := unix.Unmount(target, 0); err != nil {
			unix.Unmount(target, unix.MNT_DETACH)
			t.Fatalf("unmount %s: %v", target, err)
		}
		if data, _ := os.ReadFile("/proc/self/mountinfo"); bytes.Contains(data, []byte(target)) {
			t.Errorf("%s still mounted", target)
		}
	}
}

func applyLayer(t *testing.T, img kit.Image, l v1.Descriptor, root string, overlay bool) {
	t.Helper()
	f, err := os.Open(filepath.Join(img.Layout, "blobs", l.Digest.Algorithm().String(), l.Digest.Encoded()))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rc, err := archive.Decompress(f)
	if err != nil {
		t.Fatalf("decompress %s: %v", l.Digest, err)
	}
	defer rc.Close()
	if _, err := archive.Apply(context.Background(), root, rc, archive.ApplyOptions{OverlayWhiteouts: overlay}); err != nil {
		t.Fatalf("apply %s (%s): %v", l.Digest, l.MediaType, err)
	}
}

// checkSamples spot-checks ExpectedTree itself on what the layers of the big
// images say, so that a wrong model cannot agree with a wrong unpack.
func checkSamples(t *testing.T, ref string, tree kit.Tree) {
	t.Helper()
	has := func(p string, ok bool) {
		t.Helper()
		if _, found := tree[p]; found != ok {
			t.Errorf("%s: %s in the expected tree: %v, want %v", ref, p, found, ok)
		}
	}
	mode := func(p string, m os.FileMode) {
		t.Helper()
		if got := tree[p].Mode; got != m {
			t.Errorf("%s: %s: mode %v, want %v", ref, p, got, m)
		}
	}
	mode("lib64", os.ModeSymlink|0o777)
	mode("tmp", os.ModeDir|os.ModeSticky|0o777)
	mode("var/spool/kit.fifo", os.ModeNamedPipe|0o620)
	mode("usr/sbin/kit-suid", os.ModeSetuid|0o755)
	if n := tree["usr/bin/kit-tool-alias"]; n.HardLink != "usr/bin/kit-tool" || n.Xattrs["user.berth.origin"] != "kit" {
		t.Errorf("%s: usr/bin/kit-tool-alias: %+v", ref, n)
	}
	switch ref {
	case kit.BigRef:
		has("usr/bin/kit-tool2", false)
		has("usr/share/doc/pkg-007", false)
		has("usr/share/doc/pkg-007/NEWS", false)
		has("usr/share/doc/pkg-008/NEWS", true)
		has("usr/lib/python-kit/mod0001.py", false)
		has("usr/lib/python-kit/new.py", true)
		has("opt/data/scratch.bin", false)
		mode("etc/kit.conf", os.ModeDir|0o755)
		mode("etc/kit.d", 0o644)
		mode("usr/lib/libkit.so", 0o644)
		mode("srv/plain", os.ModeDir|0o750)
		if n := tree["usr/bin/kit-new-link"]; n.HardLink != "usr/bin/kit-new" {
			t.Errorf("usr/bin/kit-new-link: %+v", n)
		}
	case kit.BigChildRef:
		has("opt/data/random-a.bin", false)
		has("usr/share/doc/pkg-008", false)
		has("usr/share/doc/README", true)
		has("usr/bin/kit-tool2", true)
		mode("etc/kit.conf", 0o644)
	}
	if len(tree) < 4000 && ref == kit.BigRef {
		t.Errorf("%s: %d paths, want thousands", ref, len(tree))
	}
}

// TestCheckTree wants CheckTree to report a changed, a missing and an extra
// file, a wrong mode and a broken hard link.
func TestCheckTree(t *testing.T) {
	img := kit.BusyboxImage(t, "")
	root := filepath.Join(t.TempDir(), "rootfs")
	kit.Rootfs(t, root)
	want := kit.ExpectedTree(t, img)

	rec := &recorder{TB: t}
	kit.CheckTree(rec, root, want)
	if len(rec.errors) != 0 {
		t.Fatalf("a faithful tree: %v", rec.errors)
	}

	want["bin/ls"] = kit.Node{Mode: 0o755, Size: 1, HardLink: "bin/busybox"}
	must(t, os.WriteFile(filepath.Join(root, "etc/passwd"), []byte("root:x:0:0::/:/bin/sh\n"), 0o644))
	must(t, os.Remove(filepath.Join(root, "etc/group")))
	must(t, os.WriteFile(filepath.Join(root, "extra"), nil, 0o644))
	must(t, os.Chmod(filepath.Join(root, "probe"), 0o700))
	rec = &recorder{TB: t}
	kit.CheckTree(rec, root, want)
	got := strings.Join(rec.errors, "\n")
	for _, s := range []string{"etc/passwd: size", "etc/group: missing", "extra: present", "probe: mode -rwx------", "bin/ls: mode L"} {
		if !strings.Contains(got, s) {
			t.Errorf("CheckTree did not report %q:\n%s", s, got)
		}
	}
}

// recorder is a testing.TB that records errors instead of failing.
type recorder struct {
	testing.TB
	errors []string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestImageCopy copies two images into one layout: they share a blob, and
// the layout is one skopeo reads.
func TestImageCopy(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "layout")
	busybox := kit.BusyboxImage(t, dir)
	big := kit.BigImage(t, dir)
	if busybox.Layout != dir || big.Layout != dir || busybox.Layers[0].Digest != big.Layers[0].Digest {
		t.Fatalf("copies: %+v, %+v", busybox, big)
	}
	var index v1.Index
	data, err := os.ReadFile(filepath.Join(dir, "index.json"))
	must(t, err)
	must(t, json.Unmarshal(data, &index))
	if len(index.Manifests) != 2 {
		t.Errorf("index.json lists %d images, want 2", len(index.Manifests))
	}
	entries, err := os.ReadDir(filepath.Join(dir, "blobs/sha256"))
	must(t, err)
	if want := 2 + 2 + len(big.Layers); len(entries) != want { // 2 manifests, 2 configs
		t.Errorf("%d blobs, want %d", len(entries), want)
	}
	for _, img := range []kit.Image{busybox, big} {
		var inspect struct{ Digest string }
		skopeoInspect(t, &inspect, img.OCIRef())
		if inspect.Digest != img.Digest().String() {
			t.Errorf("%s: digest %s, want %s", img.OCIRef(), inspect.Digest, img.Digest())
		}
	}
}
