package store

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/berth-project/berth/internal/errdefs"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	bolt "go.etcd.io/bbolt"
)

// Image is the record of one image name: what it points at and the image it
// stands for.
type Image struct {
	// Name is the full reference ("docker.io/library/busybox:latest",
	// "…@sha256:…"); "" for a dangling image.
	Name string `json:"name"`
	// Target is the manifest or index the name resolved to.
	Target ocispec.Descriptor `json:"target"`
	// Manifest is the platform manifest chosen (Target.Digest when Target
	// is a manifest).
	Manifest digest.Digest `json:"manifest"`
	// Config is the config blob's digest: the image ID, as docker names it.
	Config digest.Digest `json:"config"`
	// Created is when the record was made here (pull, load or tag time).
	Created time.Time         `json:"created"`
	Labels  map[string]string `json:"labels,omitempty"`
	// Size is the disk usage of the image's unpacked layers, in bytes.
	Size int64 `json:"size,omitempty"`
}

// Key is the image's key in the store: its name, or "@" and its target's
// digest when it is dangling. DeleteImage takes it.
func (img Image) Key() string {
	if img.Name == "" {
		return danglingKey(img.Target.Digest)
	}
	return img.Name
}

// Dangling reports whether no name refers to the image (docker's <none>:<none>).
func (img Image) Dangling() bool { return img.Name == "" }

func danglingKey(d digest.Digest) string { return "@" + d.String() }

// Image returns the image at name (or at a dangling image's Key), or
// ErrNotFound.
func (tx *Tx) Image(name string) (Image, error) {
	b, err := tx.bucket(bucketImages)
	if err != nil {
		return Image{}, err
	}
	var img Image
	ok, err := getJSON(b, "image", name, &img)
	if err != nil {
		return Image{}, err
	}
	if !ok {
		return Image{}, fmt.Errorf("image %q: %w", name, errdefs.ErrNotFound)
	}
	return img, nil
}

// PutImage creates or replaces the record of img.Name; a zero Created is set
// to now. When the name moves to another config and no other record refers
// to the old config any more, the old image is kept as dangling, under
// "@"+its target digest, until it is deleted (as docker keeps <none>:<none>).
// A dangling record of img's config goes, since a name now refers to it.
func (tx *Tx) PutImage(img Image) error {
	what := fmt.Sprintf("put image %q", img.Name)
	if err := tx.mustWrite(what); err != nil {
		return err
	}
	if err := validateImage(img); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if img.Created.IsZero() {
		img.Created = time.Now().UTC()
	}
	b, err := tx.bucket(bucketImages)
	if err != nil {
		return err
	}
	var old Image
	moved, err := getJSON(b, "image", img.Name, &old)
	if err != nil {
		return err
	}
	moved = moved && old.Config != img.Config
	if err := putJSON(b, "image", img.Name, img); err != nil {
		return err
	}
	all, err := allImages(b)
	if err != nil {
		return err
	}
	oldInUse := false
	for _, other := range all {
		if other.Dangling() && other.Config == img.Config {
			if err := b.Delete([]byte(other.Key())); err != nil {
				return fmt.Errorf("%s: drop dangling %s: %w", what, other.Key(), err)
			}
		}
		if moved && other.Config == old.Config {
			oldInUse = true
		}
	}
	if moved && !oldInUse {
		old.Name = ""
		if err := putJSON(b, "image", old.Key(), old); err != nil {
			return err
		}
	}
	return nil
}

// PutDangling records img, which has no name (a load or import of an
// unnamed image), as a dangling image under its Key — unless a record of
// its config exists already, named or not: then the image is there and
// PutDangling changes nothing and returns false.
func (tx *Tx) PutDangling(img Image) (bool, error) {
	what := fmt.Sprintf("put dangling image %s", img.Target.Digest)
	if err := tx.mustWrite(what); err != nil {
		return false, err
	}
	if !img.Dangling() {
		return false, fmt.Errorf("%s: has the name %q: %w", what, img.Name, errdefs.ErrInvalidArgument)
	}
	named := img
	named.Name = "dangling" // validateImage checks the digests
	if err := validateImage(named); err != nil {
		return false, fmt.Errorf("%s: %w", what, err)
	}
	same, err := tx.ImagesByConfig(img.Config)
	if err != nil || len(same) > 0 {
		return false, err
	}
	if img.Created.IsZero() {
		img.Created = time.Now().UTC()
	}
	b, err := tx.bucket(bucketImages)
	if err != nil {
		return false, err
	}
	return true, putJSON(b, "image", img.Key(), img)
}

func validateImage(img Image) error {
	if img.Name == "" || strings.HasPrefix(img.Name, "@") {
		return fmt.Errorf("name must be non-empty and not start with '@': %w", errdefs.ErrInvalidArgument)
	}
	for field, d := range map[string]digest.Digest{"target": img.Target.Digest, "manifest": img.Manifest, "config": img.Config} {
		if err := d.Validate(); err != nil {
			return fmt.Errorf("%s digest %q: %v: %w", field, d, err, errdefs.ErrInvalidArgument)
		}
	}
	return nil
}

// DeleteImage removes the record at name (or a dangling image's Key), or
// returns ErrNotFound. It never leaves a dangling record behind: removing a
// name is the user's choice, as with docker rmi.
func (tx *Tx) DeleteImage(name string) error {
	if err := tx.mustWrite(fmt.Sprintf("delete image %q", name)); err != nil {
		return err
	}
	b, err := tx.bucket(bucketImages)
	if err != nil {
		return err
	}
	if b.Get([]byte(name)) == nil {
		return fmt.Errorf("image %q: %w", name, errdefs.ErrNotFound)
	}
	if err := b.Delete([]byte(name)); err != nil {
		return fmt.Errorf("delete image %q: %w", name, err)
	}
	return nil
}

// Images returns every image, dangling ones included, sorted by name
// (dangling ones, named "", first, by target digest).
func (tx *Tx) Images() ([]Image, error) {
	b, err := tx.bucket(bucketImages)
	if err != nil {
		return nil, err
	}
	all, err := allImages(b)
	if err != nil {
		return nil, err
	}
	sortImages(all)
	return all, nil
}

// ImagesByConfig returns the images whose config (image ID) is id, sorted by
// name.
func (tx *Tx) ImagesByConfig(id digest.Digest) ([]Image, error) {
	return tx.filterImages(func(img Image) bool { return img.Config == id })
}

// LookupImage finds images as a user names them: by exact name (or dangling
// Key), else by image ID — "sha256:<hex>" or a bare hex prefix of the config
// digest, of any length, as docker accepts. It returns every image of the one
// matching ID, sorted by name; ErrNotFound if nothing matches, and
// ErrInvalidArgument if a prefix matches several IDs. Names must come
// normalised (internal/reference); a user's short ID that is also a valid
// short name is tried by the caller as a name first, as docker does.
func (tx *Tx) LookupImage(s string) ([]Image, error) {
	if img, err := tx.Image(s); err == nil {
		return []Image{img}, nil
	} else if !errdefs.IsNotFound(err) {
		return nil, err
	}
	prefix, ok := idPrefix(s)
	if !ok {
		return nil, fmt.Errorf("image %q: %w", s, errdefs.ErrNotFound)
	}
	var id digest.Digest
	matches, err := tx.filterImages(func(img Image) bool {
		return strings.HasPrefix(img.Config.Encoded(), prefix) && img.Config.Algorithm() == digest.SHA256
	})
	if err != nil {
		return nil, err
	}
	for _, img := range matches {
		if id != "" && img.Config != id {
			return nil, fmt.Errorf("image ID prefix %q is ambiguous (%s, %s, …): %w", s, short(id), short(img.Config), errdefs.ErrInvalidArgument)
		}
		id = img.Config
	}
	if len(matches) == 0 {
		return nil, fmt.Errorf("image %q: %w", s, errdefs.ErrNotFound)
	}
	return matches, nil
}

// idPrefix returns the hex part of s if s can be (a prefix of) a sha256
// image ID: "sha256:" followed by hex, or hex alone.
func idPrefix(s string) (string, bool) {
	hex := strings.TrimPrefix(s, digest.SHA256.String()+":")
	if hex == "" || len(hex) > 64 {
		return "", false
	}
	for _, c := range hex {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return "", false
		}
	}
	return hex, true
}

func (tx *Tx) filterImages(keep func(Image) bool) ([]Image, error) {
	b, err := tx.bucket(bucketImages)
	if err != nil {
		return nil, err
	}
	all, err := allImages(b)
	if err != nil {
		return nil, err
	}
	var out []Image
	for _, img := range all {
		if keep(img) {
			out = append(out, img)
		}
	}
	sortImages(out)
	return out, nil
}

func allImages(b *bolt.Bucket) ([]Image, error) {
	var out []Image
	err := b.ForEach(func(k, _ []byte) error {
		var img Image
		if _, err := getJSON(b, "image", string(k), &img); err != nil {
			return err
		}
		out = append(out, img)
		return nil
	})
	return out, err
}

func sortImages(imgs []Image) {
	sort.Slice(imgs, func(i, j int) bool {
		if imgs[i].Name != imgs[j].Name {
			return imgs[i].Name < imgs[j].Name
		}
		return imgs[i].Key() < imgs[j].Key()
	})
}

// short is an image ID as docker prints it: 12 hex digits.
func short(d digest.Digest) string {
	e := d.Encoded()
	return e[:min(len(e), 12)]
}
