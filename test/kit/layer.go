package kit

import (
	"archive/tar"
	"bufio"
	"crypto/sha256"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	digest "github.com/opencontainers/go-digest"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"
)

// A layerDef is a layer as its tar entries, in order, and the media type of
// its blob (gzip, zstd or a plain tar). The same definition gives the same
// bytes, so images built from one definition share that layer's blob.
type layerDef struct {
	comment   string // the history entry's CreatedBy
	mediaType string
	entries   []entry
}

// An entry is one tar entry of a layer. Whiteouts are plain empty files named
// ".wh.<name>" (and ".wh..wh..opq"), as in a real layer.
type entry struct {
	name     string // slash-separated, relative, no trailing slash
	typeflag byte   // tar.TypeReg, TypeDir, TypeSymlink, TypeLink or TypeFifo
	mode     fs.FileMode
	uid, gid int
	target   string            // symlink text, or the hard link's path
	xattrs   map[string]string // written as PAX SCHILY.xattr records
	content  content           // regular files
}

// The entry constructors; owners are 0:0 unless by says otherwise.
func dirEntry(name string, mode fs.FileMode) entry {
	return entry{name: name, typeflag: tar.TypeDir, mode: mode}
}

func fileEntry(name string, mode fs.FileMode, c content) entry {
	return entry{name: name, typeflag: tar.TypeReg, mode: mode, content: c}
}

func symlinkEntry(name, target string) entry {
	return entry{name: name, typeflag: tar.TypeSymlink, mode: 0o777, target: target}
}

func hardlinkEntry(name, target string) entry {
	return entry{name: name, typeflag: tar.TypeLink, target: target}
}

func fifoEntry(name string, mode fs.FileMode) entry {
	return entry{name: name, typeflag: tar.TypeFifo, mode: mode}
}

// whiteoutEntry deletes name (and all below it) from the lower layers.
func whiteoutEntry(name string) entry {
	return fileEntry(path.Join(path.Dir(name), ".wh."+path.Base(name)), 0o644, literal(""))
}

// opaqueEntry hides everything the lower layers have in dir.
func opaqueEntry(dir string) entry {
	return fileEntry(path.Join(dir, ".wh..wh..opq"), 0o644, literal(""))
}

func (e entry) by(uid, gid int) entry { e.uid, e.gid = uid, gid; return e }

func (e entry) xattr(name, value string) entry {
	x := map[string]string{name: value}
	for k, v := range e.xattrs {
		x[k] = v
	}
	e.xattrs = x
	return e
}

// header is e's tar header: fixed times and no user names, so the same
// entries give the same bytes.
func (e entry) header(size int64) *tar.Header {
	hdr := &tar.Header{
		Typeflag: e.typeflag,
		Name:     e.name,
		Linkname: e.target,
		Mode:     tarMode(e.mode),
		Uid:      e.uid,
		Gid:      e.gid,
		ModTime:  ImageCreated,
	}
	if e.typeflag == tar.TypeDir {
		hdr.Name += "/"
	}
	if e.typeflag == tar.TypeReg {
		hdr.Size = size
	}
	if len(e.xattrs) > 0 {
		hdr.PAXRecords = map[string]string{}
		for k, v := range e.xattrs {
			hdr.PAXRecords["SCHILY.xattr."+k] = v
		}
	}
	return hdr
}

// tarMode is mode's permission bits with setuid, setgid and sticky in
// their tar (c_ISUID…) positions.
func tarMode(mode fs.FileMode) int64 {
	m := int64(mode.Perm())
	if mode&fs.ModeSetuid != 0 {
		m |= 0o4000
	}
	if mode&fs.ModeSetgid != 0 {
		m |= 0o2000
	}
	if mode&fs.ModeSticky != 0 {
		m |= 0o1000
	}
	return m
}

// writeLayer stores l as a blob in the layout at dir and returns its
// descriptor and diff ID (the digest of the uncompressed tar).
func writeLayer(dir string, l *layerDef) (v1.Descriptor, digest.Digest, error) {
	tmp, err := os.CreateTemp(filepath.Join(dir, "blobs"), "layer-*")
	if err != nil {
		return v1.Descriptor{}, "", fmt.Errorf("create layer: %w", err)
	}
	defer os.Remove(tmp.Name()) // after the rename it is already gone
	defer tmp.Close()

	buf := bufio.NewWriterSize(tmp, 1<<20)
	compressed, uncompressed := sha256.New(), sha256.New()
	counter := &countWriter{w: io.MultiWriter(buf, compressed)}
	var zw io.WriteCloser
	switch l.mediaType {
	case v1.MediaTypeImageLayerGzip:
		zw = gzip.NewWriter(counter)
	case v1.MediaTypeImageLayerZstd:
		// One goroutine, so the frame does not depend on the host's CPUs.
		if zw, err = zstd.NewWriter(counter, zstd.WithEncoderConcurrency(1)); err != nil {
			return v1.Descriptor{}, "", fmt.Errorf("zstd writer: %w", err)
		}
	case v1.MediaTypeImageLayer:
		zw = nopCloser{counter}
	default:
		return v1.Descriptor{}, "", fmt.Errorf("layer %q: media type %q not supported by the kit", l.comment, l.mediaType)
	}
	tw := tar.NewWriter(io.MultiWriter(zw, uncompressed))
	for _, e := range l.entries {
		if err := writeEntry(tw, e); err != nil {
			return v1.Descriptor{}, "", fmt.Errorf("layer %q: %w", l.comment, err)
		}
	}
	if err := tw.Close(); err != nil {
		return v1.Descriptor{}, "", fmt.Errorf("finish layer tar: %w", err)
	}
	if err := zw.Close(); err != nil {
		return v1.Descriptor{}, "", fmt.Errorf("finish layer compression: %w", err)
	}
	if err := buf.Flush(); err != nil {
		return v1.Descriptor{}, "", fmt.Errorf("write layer: %w", err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		return v1.Descriptor{}, "", fmt.Errorf("chmod layer: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return v1.Descriptor{}, "", fmt.Errorf("write layer: %w", err)
	}
	d := digest.NewDigest(digest.SHA256, compressed)
	if err := os.Rename(tmp.Name(), blobPath(dir, d)); err != nil {
		return v1.Descriptor{}, "", fmt.Errorf("store layer: %w", err)
	}
	desc := v1.Descriptor{MediaType: l.mediaType, Digest: d, Size: counter.n}
	return desc, digest.NewDigest(digest.SHA256, uncompressed), nil
}

// writeEntry writes e's header and content to tw.
func writeEntry(tw *tar.Writer, e entry) error {
	var size int64
	var r io.ReadCloser
	if e.typeflag == tar.TypeReg {
		var err error
		if r, size, err = e.content.open(); err != nil {
			return fmt.Errorf("%s: %w", e.name, err)
		}
		defer r.Close()
	}
	if err := tw.WriteHeader(e.header(size)); err != nil {
		return fmt.Errorf("write header for %s: %w", e.name, err)
	}
	if r == nil {
		return nil
	}
	if _, err := io.Copy(tw, r); err != nil {
		return fmt.Errorf("write %s: %w", e.name, err)
	}
	return nil
}

// countWriter counts the bytes written through it.
type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }
