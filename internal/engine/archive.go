package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/image"
	"github.com/berth-project/berth/internal/imagearchive"
	"github.com/berth-project/berth/internal/reference"
	"github.com/berth-project/berth/internal/store"
	"github.com/berth-project/berth/internal/unpack"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// The archive formats of Save.
const (
	FormatDockerArchive = string(imagearchive.DockerArchive)
	FormatOCIArchive    = string(imagearchive.OCIArchive)
)

// Save writes the images the user's words name to w as one archive.
func (e *Engine) Save(ctx context.Context, w io.Writer, words []string, format string) error {
	f, err := imagearchive.ParseFormat(format)
	if err != nil {
		return err
	}
	var named []imagearchive.Named
	err = e.db.View(func(tx *store.Tx) error {
		for _, s := range words {
			imgs, byName, err := lookupImages(tx, s)
			if err != nil {
				return err
			}
			img := imgs[0]
			if !byName {
				img.Name = "" // saved by ID: no name, as docker does
			}
			named = append(named, imagearchive.Named{Name: img.Name, Target: img.Target})
		}
		return nil
	})
	if err != nil {
		return err
	}
	return e.saved(imagearchive.Save(ctx, w, e.content, named, f), named)
}

// Load reads the images of an archive, unpacks them and records them. It
// returns what it loaded, as docker prints it: familiar names, or the IDs
// of unnamed images.
func (e *Engine) Load(ctx context.Context, r io.Reader) ([]string, error) {
	release, err := e.holdContent()
	if err != nil {
		return nil, err
	}
	defer release()
	named, err := imagearchive.Load(ctx, r, e.content)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, n := range named {
		img, err := e.adopt(ctx, n.Name, n.Target)
		if err != nil {
			return out, err
		}
		e.imageEvent(nil, img.Config.String(), familiar(img.Name), "load")
		if img.Name != "" {
			out = append(out, familiar(img.Name))
		} else {
			out = append(out, "ID: "+img.Config.String())
		}
	}
	return out, nil
}

// ImportOptions tune an import.
type ImportOptions struct {
	Name    string   // the image's name; "" leaves it dangling
	Source  string   // where the tarball came from, for the history
	Message string   // the history entry's comment
	Changes []string // Dockerfile instructions for the config
}

// Import makes a one-layer image from a root filesystem tarball.
func (e *Engine) Import(ctx context.Context, r io.Reader, opts ImportOptions) (store.Image, error) {
	var ref reference.Reference
	if opts.Name != "" {
		var err error
		if ref, err = reference.Parse(opts.Name); err != nil {
			return store.Image{}, err
		}
	}
	release, err := e.holdContent()
	if err != nil {
		return store.Image{}, err
	}
	defer release()
	desc, err := imagearchive.Import(ctx, r, e.content, imagearchive.ImportOptions{
		Source: opts.Source, Message: opts.Message, Changes: opts.Changes, Created: time.Now().UTC(),
	})
	if err != nil {
		return store.Image{}, err
	}
	name := ""
	if opts.Name != "" {
		name = ref.String()
	}
	return e.imported(e.adopt(ctx, name, desc))
}

// adopt unpacks an image whose blobs are all in the content store (loaded
// or imported) and records it under name ("" for none: dangling).
func (e *Engine) adopt(ctx context.Context, name string, target ocispec.Descriptor) (store.Image, error) {
	mdesc, m, cfg, err := e.resolveLocal(target, "")
	if err != nil {
		return store.Image{}, err
	}
	// Until it is recorded, the image's root and snapshots are this
	// process's to keep from GC.
	release, err := e.holdContent(append([]digest.Digest{target.Digest}, image.ChainIDs(cfg.RootFS.DiffIDs)...)...)
	if err != nil {
		return store.Image{}, err
	}
	defer release()
	if _, err := e.unpack(ctx, m.Layers, cfg.RootFS.DiffIDs, unpack.Options{
		Fetch: func(ctx context.Context, desc ocispec.Descriptor) error {
			if _, err := e.content.Info(desc.Digest); err != nil {
				return fmt.Errorf("layer %s is not in the archive: %w", desc.Digest, err)
			}
			return nil
		},
	}); err != nil {
		return store.Image{}, err
	}
	size, err := e.layersSize(ctx, cfg.RootFS.DiffIDs)
	if err != nil {
		return store.Image{}, err
	}
	img := store.Image{
		Name: name, Target: target, Manifest: mdesc.Digest, Config: m.Config.Digest,
		Created: time.Now().UTC(), Size: size,
	}
	if name != "" {
		if ref, err := reference.Parse(name); err != nil {
			return store.Image{}, err
		} else {
			img.Name = ref.String()
		}
	}
	if _, err := e.recordImage(img); err != nil {
		return store.Image{}, err
	}
	return img, nil
}

// resolveLocal reads the manifest (chosen for platform from an index) and
// config of target from the content store.
func (e *Engine) resolveLocal(target ocispec.Descriptor, platform string) (ocispec.Descriptor, ocispec.Manifest, ocispec.Image, error) {
	var m ocispec.Manifest
	desc := target
	b, err := e.readBlob(target.Digest, 4<<20)
	if err != nil {
		return desc, m, ocispec.Image{}, err
	}
	var doc struct {
		MediaType string               `json:"mediaType"`
		Manifests []ocispec.Descriptor `json:"manifests"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return desc, m, ocispec.Image{}, fmt.Errorf("%s: %v: %w", target.Digest, err, errdefs.ErrInvalidArgument)
	}
	if doc.Manifests != nil {
		want, err := image.ParsePlatform(platform)
		if err != nil {
			return desc, m, ocispec.Image{}, err
		}
		var idx ocispec.Index
		if err := json.Unmarshal(b, &idx); err != nil {
			return desc, m, ocispec.Image{}, fmt.Errorf("index %s: %v: %w", target.Digest, err, errdefs.ErrInvalidArgument)
		}
		if desc, err = image.Choose(idx, want); err != nil {
			return desc, m, ocispec.Image{}, fmt.Errorf("index %s: %w", target.Digest, err)
		}
		if b, err = e.readBlob(desc.Digest, 4<<20); err != nil {
			return desc, m, ocispec.Image{}, err
		}
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return desc, m, ocispec.Image{}, fmt.Errorf("manifest %s: %v: %w", desc.Digest, err, errdefs.ErrInvalidArgument)
	}
	raw, err := e.readBlob(m.Config.Digest, 8<<20)
	if err != nil {
		return desc, m, ocispec.Image{}, err
	}
	cfg, err := image.ParseConfig(raw, m)
	return desc, m, cfg, err
}
