package kit

import (
	"archive/tar"
	"compress/gzip"
	"crypto/sha256"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	digest "github.com/opencontainers/go-digest"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"
)

// writeLayer stores rootfs as a gzip tar blob in the layout at dir and returns
// its descriptor and diff ID (the digest of the uncompressed tar). Entries are
// in lexical order with fixed times and no user names, so the same files give
// the same digests; owners are the files' own when running as root and 0
// otherwise.
func writeLayer(dir, rootfs string) (v1.Descriptor, digest.Digest, error) {
	tmp, err := os.CreateTemp(filepath.Join(dir, "blobs"), "layer-*")
	if err != nil {
		return v1.Descriptor{}, "", fmt.Errorf("create layer: %w", err)
	}
	defer os.Remove(tmp.Name()) // after the rename it is already gone
	defer tmp.Close()

	compressed, uncompressed := sha256.New(), sha256.New()
	counter := &countWriter{w: io.MultiWriter(tmp, compressed)}
	zw := gzip.NewWriter(counter)
	tw := tar.NewWriter(io.MultiWriter(zw, uncompressed))
	if err := writeTree(tw, rootfs); err != nil {
		return v1.Descriptor{}, "", fmt.Errorf("tar %s: %w", rootfs, err)
	}
	if err := tw.Close(); err != nil {
		return v1.Descriptor{}, "", fmt.Errorf("finish layer tar: %w", err)
	}
	if err := zw.Close(); err != nil {
		return v1.Descriptor{}, "", fmt.Errorf("finish layer gzip: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return v1.Descriptor{}, "", fmt.Errorf("write layer: %w", err)
	}
	d := digest.NewDigest(digest.SHA256, compressed)
	if err := os.Rename(tmp.Name(), blobPath(dir, d)); err != nil {
		return v1.Descriptor{}, "", fmt.Errorf("store layer: %w", err)
	}
	desc := v1.Descriptor{MediaType: v1.MediaTypeImageLayerGzip, Digest: d, Size: counter.n}
	return desc, digest.NewDigest(digest.SHA256, uncompressed), nil
}

// writeTree writes the files below root (not root itself) to tw.
func writeTree(tw *tar.Writer, root string) error {
	keepOwners := os.Geteuid() == 0
	return filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || path == root {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		var link string
		if info.Mode()&fs.ModeSymlink != 0 {
			if link, err = os.Readlink(path); err != nil {
				return err
			}
		}
		hdr, err := tar.FileInfoHeader(info, link)
		if err != nil {
			return fmt.Errorf("header for %s: %w", path, err)
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		hdr.Name = filepath.ToSlash(rel)
		if d.IsDir() {
			hdr.Name += "/"
		}
		hdr.Uname, hdr.Gname = "", ""
		if !keepOwners {
			hdr.Uid, hdr.Gid = 0, 0
		}
		hdr.ModTime, hdr.AccessTime, hdr.ChangeTime = ImageCreated, time.Time{}, time.Time{}
		if err := tw.WriteHeader(hdr); err != nil {
			return fmt.Errorf("write header for %s: %w", path, err)
		}
		if !info.Mode().IsRegular() {
			return nil
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		if _, err := io.Copy(tw, f); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
		return nil
	})
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
