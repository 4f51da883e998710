package unpack

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/berth-project/berth/internal/archive"
	"github.com/berth-project/berth/internal/content"
	"github.com/berth-project/berth/internal/linux/mount"
	"github.com/berth-project/berth/internal/snapshot"
	"github.com/berth-project/berth/internal/testenv"
)

// benchImage is two layers of many small files, about mb megabytes in all
// (BERTH_UNPACK_BENCH_MB, default 20): the second rewrites a quarter of the
// first's files, deletes another quarter, and adds as many new ones,
// all in directories of the first layer. The bytes compress about 3:1.
func benchImage(b *testing.B) (testImage, int) {
	mb := 20
	if v := os.Getenv("BERTH_UNPACK_BENCH_MB"); v != "" {
		var err error
		if mb, err = strconv.Atoi(v); err != nil {
			b.Fatal(err)
		}
	}
	const size = 12 << 10
	n := mb << 20 / size / 2 // files per layer
	rng := rand.New(rand.NewPCG(1, 2))
	body := func() string {
		buf := make([]byte, size)
		for i := range buf {
			buf[i] = "abcdefgh"[rng.IntN(8)] // ~3 bits of entropy per byte
		}
		return string(buf)
	}
	name := func(i int) string { return fmt.Sprintf("usr/share/d%d/f%d", i/200, i) }
	l1 := []ent{dir("usr"), dir("usr/share")}
	for i := range n {
		if i%200 == 0 {
			l1 = append(l1, dir(fmt.Sprintf("usr/share/d%d", i/200)))
		}
		l1 = append(l1, file(name(i), body()))
	}
	var l2 []ent
	for i := range n {
		switch i % 4 {
		case 0:
			l2 = append(l2, file(name(i), body()))
		case 1:
			p := name(i)
			l2 = append(l2, file(filepath.Join(filepath.Dir(p), ".wh."+filepath.Base(p)), ""))
		case 2, 3:
			l2 = append(l2, file(name(i)+"-new", body()))
		}
	}
	return testImage{mkLayer(b, tarOf(b, l1...), gz), mkLayer(b, tarOf(b, l2...), gz)}, 2 * n
}

// BenchmarkUnpack unpacks benchImage and, for comparison, does its parts
// alone: reading, decompressing and hashing the blobs; applying them to a
// plain directory; and the overlay alternative of applying straight into
// the upper directory (wrong for real images, see the package doc).
//
// Nothing is deleted until the end: on ext4 without a journal (this
// machine's), creating files right after deleting many is several times
// slower (the inode allocator skips inodes freed in the last 30 s), which
// would charge one variant for the cleanup of the one before. For numbers
// to compare, run each variant in its own process after `sync; sleep 35`.
func BenchmarkUnpack(b *testing.B) {
	testenv.RequiresRoot(b)
	im, files := benchImage(b)
	var total int64
	for _, l := range im {
		total += l.desc.Size
	}
	b.Logf("%d files, %d MB compressed", files, total>>20)
	base := b.TempDir()
	cs, err := content.Open(filepath.Join(base, "content"))
	if err != nil {
		b.Fatal(err)
	}
	e := &env{base: base, cs: cs}
	e.ingest(b, im)
	ctx := context.Background()

	b.Run("read-decompress-hash", func(b *testing.B) {
		b.SetBytes(total)
		for range b.N {
			for _, l := range im {
				blob, err := cs.Open(l.desc.Digest)
				if err != nil {
					b.Fatal(err)
				}
				bh := sha256.New()
				tr, err := archive.Decompress(io.TeeReader(blob, bh))
				if err != nil {
					b.Fatal(err)
				}
				th := sha256.New()
				if _, err := io.Copy(th, tr); err != nil {
					b.Fatal(err)
				}
				tr.Close()
				blob.Close()
			}
		}
	})
	b.Run("apply-plain-dir", func(b *testing.B) {
		b.SetBytes(total)
		for range b.N {
			b.StopTimer()
			dir, err := os.MkdirTemp(base, "plain-")
			if err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			for _, l := range im {
				blob, _ := cs.Open(l.desc.Digest)
				tr, _ := archive.Decompress(blob)
				if _, err := archive.Apply(ctx, dir, tr, archive.ApplyOptions{}); err != nil {
					b.Fatal(err)
				}
				tr.Close()
				blob.Close()
			}
		}
	})
	for _, v := range []struct {
		name, kind string
		unpack     func(sn snapshot.Snapshotter, lockDir string) error
	}{
		{"native", "native", func(sn snapshot.Snapshotter, lockDir string) error {
			_, err := Unpack(ctx, cs, sn, im.descs(), im.diffIDs(), Options{LockDir: lockDir})
			return err
		}},
		{"overlay-merged", "overlay", func(sn snapshot.Snapshotter, lockDir string) error {
			_, err := Unpack(ctx, cs, sn, im.descs(), im.diffIDs(), Options{LockDir: lockDir})
			return err
		}},
		{"overlay-upperdir", "overlay", func(sn snapshot.Snapshotter, _ string) error {
			return unpackIntoUpper(ctx, cs, sn, im)
		}},
	} {
		b.Run(v.name, func(b *testing.B) {
			b.SetBytes(total)
			for i := range b.N {
				b.StopTimer()
				root := filepath.Join(base, fmt.Sprintf("%s-%d", v.name, i))
				sn := openSnapshotter(b, v.kind, root)
				b.StartTimer()
				if err := v.unpack(sn, filepath.Join(root, "locks")); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				sn.Close()
				b.StartTimer()
			}
		})
	}
}

// unpackIntoUpper is the alternative the package doc measures: each layer
// applied straight into overlay's upper directory with overlay whiteouts.
func unpackIntoUpper(ctx context.Context, cs *content.Store, sn snapshot.Snapshotter, im testImage) error {
	chain := im.chain()
	for i, l := range im {
		parent := ""
		if i > 0 {
			parent = chain[i-1].String()
		}
		key := fmt.Sprintf("upper-%d", i)
		ms, err := sn.Prepare(ctx, key, parent, nil)
		if err != nil {
			return err
		}
		root, opts := ms[0].Source, archive.ApplyOptions{}
		if ms[0].Type == "overlay" {
			opts.OverlayWhiteouts = true
			for _, o := range mount.ParseOptions(ms[0].Options).Data {
				if v, ok := strings.CutPrefix(o, "upperdir="); ok {
					root = v
				}
			}
		}
		blob, err := cs.Open(l.desc.Digest)
		if err != nil {
			return err
		}
		tr, err := archive.Decompress(blob)
		if err != nil {
			return err
		}
		_, err = archive.Apply(ctx, root, tr, opts)
		tr.Close()
		blob.Close()
		if err != nil {
			return err
		}
		if err := sn.Commit(ctx, chain[i].String(), key, nil); err != nil {
			return err
		}
	}
	return nil
}
