package kit

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	digest "github.com/opencontainers/go-digest"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sys/unix"
)

// imageCacheVersion changes when the way layouts are written changes in a
// way that the definitions' fingerprint does not see (say, a new tar or
// compression setting). The fingerprint covers everything else.
const imageCacheVersion = "1"

// ImageCacheDir is where the kit keeps the layouts it built, one per image
// set and fingerprint of its definitions ("big-3f2a…"), each beside its lock
// file. Layouts unused for a day are removed when a new one is built.
func ImageCacheDir() string { return filepath.Join(os.TempDir(), "berth-kit-images") }

// verifiedLayouts are the cached layouts whose blobs this process checked.
var verifiedLayouts sync.Map // dir → true

// cachedLayout returns the cached layout holding defs, building it first if
// it is missing or damaged. Concurrent test processes wait for one builder.
func cachedLayout(t testing.TB, set string, defs []*imageDef) (string, error) {
	t.Helper()
	fp, err := fingerprint(defs)
	if err != nil {
		return "", err
	}
	root := ImageCacheDir()
	if err := os.MkdirAll(root, 0o755); err != nil {
		return "", fmt.Errorf("create image cache: %w", err)
	}
	dir := filepath.Join(root, set+"-"+fp[:20])
	unlock, err := lockFile(dir+".lock", true)
	if err != nil {
		return "", err
	}
	defer unlock()

	if _, ok := verifiedLayouts.Load(dir); ok {
		return dir, nil
	}
	if _, err := os.Stat(dir); err == nil {
		err := verifyLayout(dir, defs)
		if err == nil {
			loadContentDigests(dir)
			now := time.Now()
			_ = os.Chtimes(dir, now, now) // the mark of use that pruning reads
			verifiedLayouts.Store(dir, true)
			return dir, nil
		}
		t.Logf("kit: cached layout %s is damaged, building it again: %v", dir, err)
		if err := os.RemoveAll(dir); err != nil {
			return "", fmt.Errorf("remove damaged layout: %w", err)
		}
	}

	start := time.Now()
	tmp, err := os.MkdirTemp(root, "build-"+set+"-")
	if err != nil {
		return "", fmt.Errorf("create layout: %w", err)
	}
	defer os.RemoveAll(tmp) // after the rename it is already gone
	if _, err := writeLayout(tmp, defs); err != nil {
		return "", err
	}
	if err := saveContentDigests(tmp, defs); err != nil {
		return "", err
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return "", fmt.Errorf("chmod layout: %w", err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		return "", fmt.Errorf("store layout: %w", err)
	}
	t.Logf("kit: built the %s images in %v into %s", set, time.Since(start).Round(time.Millisecond), dir)
	verifiedLayouts.Store(dir, true)
	pruneImageCache(root, dir)
	return dir, nil
}

// fingerprint names what defs would write: every entry's metadata and the
// identity of its content (a host file by its digest), the configs, the
// platform and imageCacheVersion.
func fingerprint(defs []*imageDef) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "kit images %s %s\n", imageCacheVersion, runtime.GOARCH)
	for _, img := range defs {
		cfg, err := json.Marshal(img.config)
		if err != nil {
			return "", fmt.Errorf("encode config of %s: %w", img.ref, err)
		}
		fmt.Fprintf(h, "image %s %s\n", img.ref, cfg)
		for _, l := range img.layers {
			fmt.Fprintf(h, "layer %s %s %d\n", l.mediaType, l.comment, len(l.entries))
			for _, e := range l.entries {
				key := ""
				if e.typeflag == tar.TypeReg {
					if key, err = e.content.key(); err != nil {
						return "", err
					}
				}
				fmt.Fprintf(h, "%q %c %o %d:%d %q %v %s\n", e.name, e.typeflag, e.mode, e.uid, e.gid, e.target, e.xattrs, key)
			}
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// contentDigestsFile, in a cached layout, lists the digests of the
// generated contents of its files (as the build computed them while writing
// them), so that ExpectedTree need not generate 200 MB again to hash it.
const contentDigestsFile = "kit-contents.json"

type savedDigest struct {
	Digest digest.Digest
	Size   int64
}

func saveContentDigests(dir string, defs []*imageDef) error {
	saved := map[string]savedDigest{}
	for _, img := range defs {
		for _, l := range img.layers {
			for _, e := range l.entries {
				if e.typeflag != tar.TypeReg || (e.content.kind != randomContent && e.content.kind != textContent) {
					continue
				}
				key, _ := e.content.key()
				if m, ok := contentDigests.Load(key); ok {
					saved[key] = savedDigest{m.(memoDigest).d, m.(memoDigest).n}
				}
			}
		}
	}
	data, err := json.Marshal(saved)
	if err != nil {
		return fmt.Errorf("encode content digests: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, contentDigestsFile), data, 0o644); err != nil {
		return fmt.Errorf("write content digests: %w", err)
	}
	return nil
}

// loadContentDigests memoizes the digests saved in the layout at dir; a
// missing or unreadable list only means they are computed again.
func loadContentDigests(dir string) {
	var saved map[string]savedDigest
	if readJSON(filepath.Join(dir, contentDigestsFile), &saved) != nil {
		return
	}
	for key, s := range saved {
		contentDigests.LoadOrStore(key, memoDigest{s.Digest, s.Size})
	}
}

// verifyLayout checks that the layout at dir holds every image of defs with
// all its blobs intact.
func verifyLayout(dir string, defs []*imageDef) error {
	for _, def := range defs {
		img, err := readImage(dir, def.ref)
		if err != nil {
			return err
		}
		if len(img.Layers) != len(def.layers) || len(img.DiffIDs) != len(def.layers) {
			return fmt.Errorf("image %s has %d layers, want %d", def.ref, len(img.Layers), len(def.layers))
		}
		for _, d := range append([]v1.Descriptor{img.Manifest, img.Config}, img.Layers...) {
			if err := verifyBlob(dir, d); err != nil {
				return err
			}
		}
	}
	return nil
}

func verifyBlob(dir string, d v1.Descriptor) error {
	f, err := os.Open(blobPath(dir, d.Digest))
	if err != nil {
		return fmt.Errorf("blob %s: %w", d.Digest, err)
	}
	defer f.Close()
	v := d.Digest.Verifier()
	n, err := io.Copy(v, f)
	if err != nil {
		return fmt.Errorf("read blob %s: %w", d.Digest, err)
	}
	if n != d.Size || !v.Verified() {
		return fmt.Errorf("blob %s: %d bytes, want %d, or content does not match its digest", d.Digest, n, d.Size)
	}
	return nil
}

// copyImage copies the image ref, with its blobs, from the layout at src into
// the one at dst (created if missing). Blobs dst already has are kept.
func copyImage(src, dst, ref string) error {
	img, err := readImage(src, ref)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(dst, "blobs", "sha256"), 0o755); err != nil {
		return fmt.Errorf("create blobs: %w", err)
	}
	for _, d := range append([]v1.Descriptor{img.Manifest, img.Config}, img.Layers...) {
		if err := copyBlob(src, dst, d); err != nil {
			return err
		}
	}
	if err := addToIndex(dst, img.Manifest); err != nil {
		return err
	}
	layout, err := json.Marshal(v1.ImageLayout{Version: v1.ImageLayoutVersion})
	if err != nil {
		return fmt.Errorf("encode oci-layout: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dst, v1.ImageLayoutFile), layout, 0o644); err != nil {
		return fmt.Errorf("write oci-layout: %w", err)
	}
	return nil
}

func copyBlob(src, dst string, d v1.Descriptor) error {
	to := blobPath(dst, d.Digest)
	if st, err := os.Stat(to); err == nil && st.Size() == d.Size {
		return nil
	}
	in, err := os.Open(blobPath(src, d.Digest))
	if err != nil {
		return fmt.Errorf("copy blob: %w", err)
	}
	defer in.Close()
	out, err := os.CreateTemp(filepath.Dir(to), "copy-*")
	if err != nil {
		return fmt.Errorf("copy blob %s: %w", d.Digest, err)
	}
	defer os.Remove(out.Name()) // after the rename it is already gone
	defer out.Close()
	if _, err := io.Copy(out, in); err != nil { // copy_file_range where it can
		return fmt.Errorf("copy blob %s: %w", d.Digest, err)
	}
	if err := out.Chmod(0o644); err != nil {
		return fmt.Errorf("copy blob %s: %w", d.Digest, err)
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("copy blob %s: %w", d.Digest, err)
	}
	if err := os.Rename(out.Name(), to); err != nil {
		return fmt.Errorf("copy blob %s: %w", d.Digest, err)
	}
	return nil
}

// lockFile takes an exclusive flock on path (created if missing) and returns
// its release. Without wait it fails at once if another holds the lock.
func lockFile(path string, wait bool) (func(), error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open lock %s: %w", path, err)
	}
	how := unix.LOCK_EX
	if !wait {
		how |= unix.LOCK_NB
	}
	for {
		err = unix.Flock(int(f.Fd()), how)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return func() { f.Close() }, nil
}

// pruneImageCache removes the layouts in root, other than keep, that no
// one used for a day (older probes or definitions), and builds that died.
func pruneImageCache(root, keep string) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return
	}
	var stale []string
	for _, e := range entries {
		p := filepath.Join(root, e.Name())
		info, err := e.Info()
		if !e.IsDir() || p == keep || err != nil || time.Since(info.ModTime()) < 24*time.Hour {
			continue
		}
		stale = append(stale, p)
	}
	sort.Strings(stale)
	for _, p := range stale {
		if strings.HasPrefix(filepath.Base(p), "build-") {
			os.RemoveAll(p)
			continue
		}
		unlock, err := lockFile(p+".lock", false)
		if err != nil {
			continue // in use
		}
		if err := os.RemoveAll(p); err == nil || errors.Is(err, fs.ErrNotExist) {
			os.Remove(p + ".lock")
		}
		unlock()
	}
}
