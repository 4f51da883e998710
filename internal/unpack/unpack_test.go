package unpack

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/testenv"
)

// threeLayers is a usr-merged base, a layer with whiteouts, an opaque
// directory, hard links and files written through the base's symlinks, and
// a layer that whites out a directory; gzip, zstd and plain.
func threeLayers(t testing.TB) testImage {
	libDir := dir("usr/lib")
	libDir.mode, libDir.uid, libDir.gid = 0o750, 7, 8
	l1 := tarOf(t, dir("usr"), libDir, file("usr/lib/libc", "libc"), dir("usr/bin"), file("usr/bin/sh", "sh1"),
		symlink("lib", "usr/lib"), symlink("bin", "/usr/bin"),
		dir("etc"), file("etc/passwd", "root"), file("etc/gone", "x"),
		dir("d"), file("d/old", "old"), dir("d/sub"), file("d/sub/deep", "deep"),
		dir("e"), file("e/keep", "keep"), file("big", "a"), hardlink("big2", "big"))
	l2 := tarOf(t, file("etc/.wh.gone", ""),
		dir("d"), file("d/.wh..wh..opq", ""), file("d/new", "new"),
		file("lib/x86_64-linux-gnu/libfoo.so", "foo"), file("bin/ls", "ls"),
		file("etc/passwd", "root2"), hardlink("etc/passwd-link", "etc/passwd"),
		hardlink("usr/lib/libc2", "usr/lib/libc"))
	l3 := tarOf(t, file(".wh.e", ""), file("d/.wh.new", ""), dir("e2"), file("e2/x", "x"))
	return testImage{mkLayer(t, l1, gz), mkLayer(t, l2, zst), mkLayer(t, l3, plain)}
}

func TestUnpackChain(t *testing.T) {
	testenv.RequiresRoot(t)
	forEachKind(t, func(t *testing.T, e *env) {
		im := threeLayers(t)
		reg := newRegistry(im)
		var mu sync.Mutex
		phases := map[digest.Digest][]Phase{}
		opts := e.opts()
		opts.Fetch = reg.fetcher(e.cs)
		opts.Progress = func(ev Event) {
			mu.Lock()
			defer mu.Unlock()
			if ev.Err != nil {
				t.Errorf("event error: %v", ev.Err)
			}
			if p := phases[ev.Layer.Digest]; len(p) == 0 || p[len(p)-1] != ev.Phase {
				phases[ev.Layer.Digest] = append(p, ev.Phase)
			}
		}
		e.unpack(t, im, opts)
		chain := im.chain()
		e.checkClean(t, chain...)
		for i, l := range im {
			if n := reg.count(l.desc.Digest); n != 1 {
				t.Errorf("layer %d fetched %d times", i, n)
			}
			want := []Phase{Waiting, Downloading, Extracting, Verifying, Done}
			if got := phases[l.desc.Digest]; !equalPhases(got, want) {
				t.Errorf("layer %d phases %v, want %v", i, got, want)
			}
		}
		e.checkView(t, chain[len(chain)-1], tree{
			"usr/lib/libc": "libc", "usr/lib/libc2": "libc", "usr/lib/x86_64-linux-gnu/libfoo.so": "foo",
			"lib": "->usr/lib", "bin": "->/usr/bin", "usr/bin/ls": "ls", "usr/bin/sh": "sh1",
			"etc/passwd": "root2", "etc/passwd-link": "root2", "etc/gone": "",
			"d": "dir", "d/old": "", "d/sub": "", "d/new": "", "e": "", "e/keep": "", "e2/x": "x", "big2": "a",
		})
		e.checkView(t, chain[1], tree{"d/new": "new", "d/old": "", "e/keep": "keep", "etc/gone": "", "e2": ""})
		e.checkView(t, chain[0], tree{"d/old": "old", "d/sub/deep": "deep", "etc/gone": "x", "etc/passwd": "root"})
		// Writing through "lib -> usr/lib" kept the lower directory's
		// metadata, and made no directory "lib" beside the symlink.
		e.checkStat(t, chain[2], "usr/lib", func(st *unix.Stat_t) bool {
			return st.Mode&0o7777 == 0o750 && st.Uid == 7 && st.Gid == 8
		})
		e.checkStat(t, chain[2], "etc/passwd-link", func(st *unix.Stat_t) bool { return st.Nlink == 2 })
	})
}

func equalPhases(a, b []Phase) bool {
	return len(a) == len(b) && strings.Join(phaseStrings(a), ",") == strings.Join(phaseStrings(b), ",")
}

func phaseStrings(ps []Phase) []string {
	var s []string
	for _, p := range ps {
		s = append(s, p.String())
	}
	return s
}

// Two images share their bottom layers: the second unpack neither fetches
// nor reads them (their blobs are even gone from the store).
func TestUnpackSharedLayers(t *testing.T) {
	testenv.RequiresRoot(t)
	forEachKind(t, func(t *testing.T, e *env) {
		a := threeLayers(t)
		b := testImage{a[0], a[1], mkLayer(t, tarOf(t, file("b-only", "b"), file("d/.wh.new", "")), gz)}
		reg := newRegistry(a, b)
		opts := e.opts()
		opts.Fetch = reg.fetcher(e.cs)
		e.unpack(t, a, opts)
		for _, l := range a[:2] {
			if err := e.cs.Delete(l.desc.Digest); err != nil {
				t.Fatal(err)
			}
		}
		var exists []digest.Digest
		opts.Progress = func(ev Event) {
			if ev.Phase == AlreadyExists {
				exists = append(exists, ev.Layer.Digest)
			}
		}
		e.unpack(t, b, opts)
		for i, l := range b {
			want := 1
			if n := reg.count(l.desc.Digest); n != want {
				t.Errorf("layer %d fetched %d times, want %d", i, n, want)
			}
		}
		if len(exists) != 2 || exists[0] != b[0].desc.Digest || exists[1] != b[1].desc.Digest {
			t.Errorf("already existing layers %v, want the first two", exists)
		}
		e.checkClean(t, append(a.chain(), b.chain()[2])...)
		e.checkView(t, b.chain()[2], tree{"b-only": "b", "e/keep": "keep", "d/new": "", "usr/lib/x86_64-linux-gnu/libfoo.so": "foo"})

		// Everything there: nothing fetched, nothing read.
		before := reg.count(b[2].desc.Digest)
		e.unpack(t, b, Options{LockDir: e.lockDir})
		if reg.count(b[2].desc.Digest) != before {
			t.Error("top layer fetched again")
		}
	})
}

func TestUnpackDiffIDMismatch(t *testing.T) {
	testenv.RequiresRoot(t)
	forEachKind(t, func(t *testing.T, e *env) {
		im := threeLayers(t)
		im[1].diffID = digest.FromString("not this layer")
		e.ingest(t, im)
		var failed []Event
		opts := e.opts()
		opts.Progress = func(ev Event) {
			if ev.Err != nil {
				failed = append(failed, ev)
			}
		}
		_, err := Unpack(context.Background(), e.cs, e.sn, im.descs(), im.diffIDs(), opts)
		if !errdefs.IsInvalidArgument(err) || !strings.Contains(err.Error(), im[1].desc.Digest.String()) {
			t.Fatalf("Unpack: %v, want an invalid argument naming layer 1", err)
		}
		t.Log(err)
		if len(failed) != 1 || failed[0].Layer.Digest != im[1].desc.Digest {
			t.Errorf("error events %+v, want one for layer 1", failed)
		}
		e.checkClean(t, im.chain()[0])
	})
}

func TestUnpackBlobDigestMismatch(t *testing.T) {
	testenv.RequiresRoot(t)
	forEachKind(t, func(t *testing.T, e *env) {
		im := threeLayers(t)
		e.ingest(t, im)
		// The store's copy of layer 2 rots on disk: same size, other bytes
		// (a plain tar, so the tar itself still reads).
		p, err := e.cs.BlobPath(im[2].desc.Digest)
		if err != nil {
			t.Fatal(err)
		}
		b := append([]byte(nil), im[2].blob...)
		b[len(b)-1] ^= 0xff // in the tar's zero padding
		if err := os.Chmod(p, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o444); err != nil {
			t.Fatal(err)
		}
		_, err = Unpack(context.Background(), e.cs, e.sn, im.descs(), im.diffIDs(), e.opts())
		if !errdefs.IsInvalidArgument(err) || !strings.Contains(err.Error(), "blob") {
			t.Fatalf("Unpack: %v, want a blob digest mismatch", err)
		}
		t.Log(err)
		e.checkClean(t, im.chain()[:2]...)
	})
}

func TestUnpackFetchError(t *testing.T) {
	testenv.RequiresRoot(t)
	forEachKind(t, func(t *testing.T, e *env) {
		im := threeLayers(t)
		reg := newRegistry(im)
		boom := errors.New("registry on fire")
		reg.fail[im[1].desc.Digest] = boom
		opts := e.opts()
		opts.Fetch = reg.fetcher(e.cs)
		_, err := Unpack(context.Background(), e.cs, e.sn, im.descs(), im.diffIDs(), opts)
		if !errors.Is(err, boom) {
			t.Fatalf("Unpack: %v, want the fetch error", err)
		}
		// Layer 0 may or may not have been applied before the failure.
		var want []digest.Digest
		if _, err := e.sn.Stat(context.Background(), im.chain()[0].String()); err == nil {
			want = im.chain()[:1]
		}
		e.checkClean(t, want...)

		// No fetcher, and a blob missing: not found.
		_, err = Unpack(context.Background(), e.cs, e.sn, im.descs(), im.diffIDs(), e.opts())
		if !errdefs.IsNotFound(err) {
			t.Fatalf("Unpack without fetcher: %v, want not found", err)
		}
	})
}

func TestUnpackMediaTypes(t *testing.T) {
	testenv.RequiresRoot(t)
	e := newEnv(t, "native")
	im := threeLayers(t)
	e.ingest(t, im)
	for _, mt := range []string{
		"application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
		"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
		"application/vnd.oci.image.config.v1+json",
		"",
	} {
		bad := append(testImage(nil), im...)
		bad[1].desc.MediaType = mt
		_, err := Unpack(context.Background(), e.cs, e.sn, bad.descs(), bad.diffIDs(), e.opts())
		if !errors.Is(err, errdefs.ErrNotImplemented) {
			t.Errorf("media type %q: %v, want not implemented", mt, err)
		}
		t.Log(err)
	}
	e.checkClean(t)
	for _, mt := range []string{ocispec.MediaTypeImageLayer, ocispec.MediaTypeImageLayerGzip, "application/vnd.docker.image.rootfs.diff.tar"} {
		ok := append(testImage(nil), im...)
		ok[0].desc.MediaType = mt // the compression is told by the blob
		if _, err := Unpack(context.Background(), e.cs, e.sn, ok.descs()[:1], ok.diffIDs()[:1], e.opts()); err != nil {
			t.Errorf("media type %q: %v", mt, err)
		}
	}
}

func TestUnpackArguments(t *testing.T) {
	testenv.RequiresRoot(t)
	e := newEnv(t, "native")
	im := threeLayers(t)
	ctx := context.Background()
	if _, err := Unpack(ctx, e.cs, e.sn, im.descs(), im.diffIDs()[:2], e.opts()); !errdefs.IsInvalidArgument(err) {
		t.Errorf("diffIDs short: %v", err)
	}
	if _, err := Unpack(ctx, e.cs, e.sn, im.descs(), im.diffIDs(), Options{}); !errdefs.IsInvalidArgument(err) {
		t.Errorf("no lock dir: %v", err)
	}
	if top, err := Unpack(ctx, e.cs, e.sn, nil, nil, e.opts()); top != "" || err != nil {
		t.Errorf("no layers: %q %v", top, err)
	}
	ids := im.diffIDs()
	ids[2] = "sha256:nothex"
	if _, err := Unpack(ctx, e.cs, e.sn, im.descs(), ids, e.opts()); !errdefs.IsInvalidArgument(err) {
		t.Errorf("bad diffID: %v", err)
	}
	e.checkClean(t)
}

// Unpacks of one image from several goroutines: each layer is applied once
// and all agree.
func TestUnpackConcurrentGoroutines(t *testing.T) {
	testenv.RequiresRoot(t)
	forEachKind(t, func(t *testing.T, e *env) {
		im := threeLayers(t)
		reg := newRegistry(im)
		var mu sync.Mutex
		applied := map[digest.Digest]int{}
		opts := e.opts()
		opts.Fetch = reg.fetcher(e.cs)
		opts.Progress = func(ev Event) {
			if ev.Phase == Verifying {
				mu.Lock()
				applied[ev.Layer.Digest]++
				mu.Unlock()
			}
		}
		var wg sync.WaitGroup
		errs := make([]error, 4)
		tops := make([]digest.Digest, 4)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				tops[i], errs[i] = Unpack(context.Background(), e.cs, e.sn, im.descs(), im.diffIDs(), opts)
			}()
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		for i, top := range tops {
			if top != im.chain()[2] {
				t.Errorf("unpack %d: top %s", i, top)
			}
		}
		for i, l := range im {
			if applied[l.desc.Digest] != 1 {
				t.Errorf("layer %d applied %d times", i, applied[l.desc.Digest])
			}
		}
		e.checkClean(t, im.chain()...)
		e.checkView(t, im.chain()[2], tree{"e2/x": "x", "usr/bin/ls": "ls"})
	})
}

// checkStat stats name in a view of chainID and checks it with ok.
func (e *env) checkStat(t testing.TB, chainID digest.Digest, name string, ok func(*unix.Stat_t) bool) {
	t.Helper()
	ctx := context.Background()
	ms, err := e.sn.View(ctx, "stat-view", chainID.String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer e.sn.Remove(ctx, "stat-view")
	f, err := detach(ms)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var st unix.Stat_t
	if err := unix.Fstatat(int(f.Fd()), name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		t.Fatal(err)
	}
	if !ok(&st) {
		t.Errorf("%s: mode %o owner %d:%d nlink %d: not as wanted", name, st.Mode, st.Uid, st.Gid, st.Nlink)
	}
}

// A chain deeper than one fsconfig option can name (overlay's lowerdir):
// every layer adds a file and removes the previous layer's.
func TestUnpackDeepChain(t *testing.T) {
	testenv.RequiresRoot(t)
	forEachKind(t, func(t *testing.T, e *env) {
		var im testImage
		for i := range 16 {
			ents := []ent{file(fmt.Sprintf("f%d", i), fmt.Sprint(i))}
			if i > 0 {
				ents = append(ents, file(fmt.Sprintf(".wh.f%d", i-1), ""))
			}
			im = append(im, mkLayer(t, tarOf(t, ents...), gz))
		}
		e.ingest(t, im)
		e.unpack(t, im, e.opts())
		e.checkClean(t, im.chain()...)
		e.checkView(t, im.chain()[15], tree{"f15": "15", "f14": "", "f0": ""})
	})
}
