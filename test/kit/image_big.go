package kit

import (
	"fmt"
	"io/fs"
	"math/rand/v2"

	v1 "github.com/opencontainers/image-spec/specs-go/v1"
)

// bigImages returns BigImage and BigImageChild. Their layers, bottom first:
//
//	0 busybox  gzip   the kit rootfs, BusyboxImage's very blob
//	1 system   gzip   ~3,300 small text files (usr/share/doc, usr/lib/python-kit),
//	                  lib64 -> lib, relative, absolute and dangling symlinks, a
//	                  three-name hard link with a user.* xattr, setuid and setgid
//	                  files, a fifo, a sticky dir, a file owned by 1000
//	2 blobs    zstd   48 MB random, 34 MB text and its hard link, 1 MB files
//	3 plain    tar    an uncompressed layer: 26 MB random, 300 small files, a
//	                  symlink to a dir, a file of an earlier layer rewritten
//	4 logs     gzip   42 MB of logs, 14 MB random, 640 small random files in 64
//	                  dirs, a dir with an xattr, a dir owned by 1000
//	5 changes  gzip   whiteouts (a dir, a file, one name of a hard link), an
//	                  opaque dir, file -> dir, dir -> file, symlink -> file, a dir
//	                  chmod, rewritten files, a new hard link
//
// BigImageChild is layers 0-3 and a layer of its own (a whiteout of a big
// file, an opaque usr/share/doc, a rewritten file).
func bigImages(probe string) []*imageDef {
	base := []*layerDef{busyboxLayer(probe), bigSystemLayer(), bigBlobsLayer(), bigPlainLayer()}
	config := v1.ImageConfig{Env: []string{DefaultPath}, Cmd: []string{"sh"}, WorkingDir: "/srv"}
	return []*imageDef{
		{ref: BigRef, layers: append(base[:4:4], bigLogsLayer(), bigChangesLayer()), config: config},
		{ref: BigChildRef, layers: append(base[:4:4], bigChildLayer()), config: config},
	}
}

// bigDocPackages is the number of usr/share/doc/pkg-NNN dirs of layer 1.
const bigDocPackages = 600

func bigSystemLayer() *layerDef {
	l := &layerDef{comment: "system files", mediaType: v1.MediaTypeImageLayerGzip}
	add := func(es ...entry) { l.entries = append(l.entries, es...) }
	rng := rand.New(rand.NewPCG(1, 1))
	between := func(lo, hi int) int64 { return int64(lo + rng.IntN(hi-lo)) }

	add(dirEntry("etc", 0o755),
		dirEntry("home", 0o755),
		dirEntry("home/berth", 0o755).by(1000, 1000),
		dirEntry("var", 0o755),
		dirEntry("lib", 0o755),
		symlinkEntry("lib64", "lib"),
		fileEntry("lib/ld-kit.so.1", 0o755, random("lib/ld-kit.so.1", 180<<10)),
		fileEntry("lib/libkit.so.1.2.3", 0o755, random("lib/libkit.so.1.2.3", 1200<<10)),
		symlinkEntry("lib/libkit.so.1", "libkit.so.1.2.3"),
		dirEntry("usr", 0o755),
		dirEntry("usr/bin", 0o755),
		fileEntry("usr/bin/kit-tool", 0o755, random("usr/bin/kit-tool", 600<<10)).xattr("user.berth.origin", "kit"),
		hardlinkEntry("usr/bin/kit-tool-alias", "usr/bin/kit-tool"),
		hardlinkEntry("usr/bin/kit-tool2", "usr/bin/kit-tool"),
		fileEntry("usr/bin/kit-sgid", fs.ModeSetgid|0o755, random("usr/bin/kit-sgid", 32<<10)).by(0, 42),
		dirEntry("usr/sbin", 0o755),
		fileEntry("usr/sbin/kit-suid", fs.ModeSetuid|0o755, random("usr/sbin/kit-suid", 64<<10)),
		dirEntry("usr/lib", 0o755),
		symlinkEntry("usr/lib/libkit.so", "/lib/libkit.so.1"),
		fileEntry("etc/kit.conf", 0o644, text("etc/kit.conf", 2048)),
		dirEntry("etc/kit.d", 0o755),
		fileEntry("etc/kit.d/a.conf", 0o644, text("etc/kit.d/a.conf", 300)),
		fileEntry("etc/kit.d/b.conf", 0o644, text("etc/kit.d/b.conf", 500)),
		fileEntry("etc/shadow", 0o640, literal("root:*:10957:0:99999:7:::\nberth:!:10957:0:99999:7:::\n")).by(0, 42),
		symlinkEntry("etc/dangling", "/nonexistent/target"),
		fileEntry("home/berth/notes.txt", 0o600, text("home/berth/notes.txt", 1500)).by(1000, 1000),
		dirEntry("var/spool", 0o755),
		fifoEntry("var/spool/kit.fifo", 0o620),
		dirEntry("var/tmp", fs.ModeSticky|0o777),
		dirEntry("usr/share", 0o755),
		dirEntry("usr/share/doc", 0o755),
	)
	for i := 0; i < bigDocPackages; i++ {
		d := fmt.Sprintf("usr/share/doc/pkg-%03d", i)
		add(dirEntry(d, 0o755))
		for _, f := range []struct {
			name   string
			lo, hi int
		}{{"copyright", 300, 2000}, {"changelog", 500, 8000}, {"README", 200, 3000}, {"NEWS", 100, 1500}} {
			add(fileEntry(d+"/"+f.name, 0o644, text(d+"/"+f.name, between(f.lo, f.hi))))
		}
	}
	add(dirEntry("usr/lib/python-kit", 0o755))
	for i := 0; i < 900; i++ {
		name := fmt.Sprintf("usr/lib/python-kit/mod%04d.py", i)
		add(fileEntry(name, 0o644, text(name, between(500, 5000))))
	}
	return l
}

func bigBlobsLayer() *layerDef {
	l := &layerDef{comment: "big files", mediaType: v1.MediaTypeImageLayerZstd}
	add := func(es ...entry) { l.entries = append(l.entries, es...) }
	add(dirEntry("opt", 0o755),
		dirEntry("opt/data", 0o755),
		fileEntry("opt/data/random-a.bin", 0o644, random("opt/data/random-a.bin", 48<<20)),
		fileEntry("opt/data/corpus.txt", 0o644, text("opt/data/corpus.txt", 34<<20)),
		hardlinkEntry("opt/data/corpus-link.txt", "opt/data/corpus.txt"),
		fileEntry("opt/data/scratch.bin", 0o644, random("opt/data/scratch.bin", 2<<20)),
	)
	for i := 0; i < 6; i++ {
		name := fmt.Sprintf("opt/data/medium-%02d.bin", i)
		add(fileEntry(name, 0o644, random(name, 1<<20)))
	}
	return l
}

func bigPlainLayer() *layerDef {
	l := &layerDef{comment: "an uncompressed layer", mediaType: v1.MediaTypeImageLayer}
	add := func(es ...entry) { l.entries = append(l.entries, es...) }
	rng := rand.New(rand.NewPCG(3, 3))
	add(dirEntry("lib", 0o755),
		fileEntry("lib/ld-kit.so.1", 0o755, random("lib/ld-kit.so.1 v2", 200<<10)),
		dirEntry("srv", 0o755),
		dirEntry("srv/plain", 0o755),
		symlinkEntry("srv/current", "plain"),
		fileEntry("srv/plain/random-b.bin", 0o644, random("srv/plain/random-b.bin", 26<<20)),
		fileEntry("srv/plain/note.txt", 0o644, text("srv/plain/note.txt", 4096)).
			xattr("user.berth.layer", "plain").xattr("user.berth.note", "two xattrs"),
	)
	for i := 0; i < 300; i++ {
		name := fmt.Sprintf("srv/plain/small-%03d.txt", i)
		add(fileEntry(name, 0o644, text(name, int64(100+rng.IntN(3000)))))
	}
	return l
}

func bigLogsLayer() *layerDef {
	l := &layerDef{comment: "logs and caches", mediaType: v1.MediaTypeImageLayerGzip}
	add := func(es ...entry) { l.entries = append(l.entries, es...) }
	rng := rand.New(rand.NewPCG(4, 4))
	add(dirEntry("var", 0o755),
		dirEntry("var/log", 0o755),
		dirEntry("var/log/kit", 0o750).by(1000, 1000),
		fileEntry("var/log/kit/app.log", 0o640, text("var/log/kit/app.log", 38<<20)).by(1000, 1000),
		fileEntry("var/log/kit/app.log.1", 0o640, text("var/log/kit/app.log.1", 4<<20)).by(1000, 1000),
		dirEntry("var/cache", 0o755),
		dirEntry("var/cache/kit", 0o755).xattr("user.berth.cache", "yes"),
		fileEntry("var/cache/kit/blob.bin", 0o644, random("var/cache/kit/blob.bin", 14<<20)),
		dirEntry("var/cache/kit/objects", 0o755),
	)
	for d := 0; d < 64; d++ {
		dir := fmt.Sprintf("var/cache/kit/objects/%02x", d*4)
		add(dirEntry(dir, 0o755))
		for i := 0; i < 10; i++ {
			name := fmt.Sprintf("%s/obj-%02d", dir, i)
			add(fileEntry(name, 0o444, random(name, int64(1024+rng.IntN(7*1024)))))
		}
	}
	return l
}

func bigChangesLayer() *layerDef {
	l := &layerDef{comment: "changes to the layers below", mediaType: v1.MediaTypeImageLayerGzip}
	add := func(es ...entry) { l.entries = append(l.entries, es...) }
	// The parents of what changes come again, unchanged, as in real layers.
	add(dirEntry("etc", 0o755),
		dirEntry("etc/kit.conf", 0o755), // was a file
		fileEntry("etc/kit.conf/main.conf", 0o644, text("etc/kit.conf/main.conf", 900)),
		fileEntry("etc/kit.d", 0o644, literal("kit.d is a file now\n")), // was a dir
		fileEntry("etc/passwd", 0o644, literal(Passwd+"kit:x:1001:1001:kit:/srv:/bin/sh\n")),
		dirEntry("opt", 0o755),
		dirEntry("opt/data", 0o755),
		whiteoutEntry("opt/data/scratch.bin"),
		dirEntry("srv", 0o755),
		dirEntry("srv/plain", 0o750), // chmod
		whiteoutEntry("srv/plain/small-000.txt"),
		whiteoutEntry("srv/plain/small-001.txt"),
		whiteoutEntry("srv/plain/small-002.txt"),
		dirEntry("usr", 0o755),
		dirEntry("usr/bin", 0o755),
		whiteoutEntry("usr/bin/kit-tool2"), // one of three names of a file
		fileEntry("usr/bin/kit-new", 0o755, random("usr/bin/kit-new", 100<<10)),
		hardlinkEntry("usr/bin/kit-new-link", "usr/bin/kit-new"),
		dirEntry("usr/lib", 0o755),
		fileEntry("usr/lib/libkit.so", 0o644, literal("INPUT(-lkit)\n")), // was a symlink
		dirEntry("usr/lib/python-kit", 0o755),
		opaqueEntry("usr/lib/python-kit"),
		fileEntry("usr/lib/python-kit/__init__.py", 0o644, literal("")),
		fileEntry("usr/lib/python-kit/mod0000.py", 0o644, text("usr/lib/python-kit/mod0000.py v2", 700)),
		fileEntry("usr/lib/python-kit/new.py", 0o644, text("usr/lib/python-kit/new.py", 1200)),
		dirEntry("usr/share", 0o755),
		dirEntry("usr/share/doc", 0o755),
		whiteoutEntry("usr/share/doc/pkg-007"), // a dir and its files
	)
	for i := 100; i < 300; i++ {
		d := fmt.Sprintf("usr/share/doc/pkg-%03d", i)
		add(dirEntry(d, 0o755), fileEntry(d+"/NEWS", 0o644, text(d+"/NEWS v2", int64(200+i))))
	}
	return l
}

func bigChildLayer() *layerDef {
	l := &layerDef{comment: "the child's changes", mediaType: v1.MediaTypeImageLayerGzip}
	add := func(es ...entry) { l.entries = append(l.entries, es...) }
	add(dirEntry("etc", 0o755),
		fileEntry("etc/kit.conf", 0o644, text("etc/kit.conf child", 3000)),
		dirEntry("opt", 0o755),
		dirEntry("opt/data", 0o755),
		whiteoutEntry("opt/data/random-a.bin"),
		dirEntry("srv", 0o755),
		fileEntry("srv/child.txt", 0o644, text("srv/child.txt", 10<<10)),
		dirEntry("usr", 0o755),
		dirEntry("usr/share", 0o755),
		dirEntry("usr/share/doc", 0o755),
		opaqueEntry("usr/share/doc"),
		fileEntry("usr/share/doc/README", 0o644, literal("the docs are gone in the child\n")),
	)
	return l
}
