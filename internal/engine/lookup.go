package engine

import (
	"fmt"
	"slices"
	"strings"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/reference"
	"github.com/berth-project/berth/internal/store"
)

// lookupImages finds the images the user's word s names, as docker does:
// first as a name ("busybox" is docker.io/library/busybox:latest), then
// as an image ID or a unique prefix of one ("sha256:…" or hex); byName
// says which matched.
func lookupImages(tx *store.Tx, s string) (imgs []store.Image, byName bool, err error) {
	if strings.HasPrefix(s, "@") { // a dangling image's record key
		img, err := tx.Image(s)
		if err != nil {
			return nil, false, fmt.Errorf("image %q: %w", s, err)
		}
		return []store.Image{img}, true, nil
	}
	if ref, err := reference.Parse(s); err == nil {
		if img, err := tx.Image(ref.String()); err == nil {
			return []store.Image{img}, true, nil
		} else if !errdefs.IsNotFound(err) {
			return nil, false, err
		}
	}
	imgs, err = tx.LookupImage(s)
	if err != nil {
		return nil, false, err
	}
	if len(imgs) == 0 {
		return nil, false, fmt.Errorf("image %q: %w", s, errdefs.ErrNotFound)
	}
	return imgs, false, nil
}

// lookupImage is lookupImages for one image (every record found shares
// one ID; the first, by name, stands for them).
func lookupImage(tx *store.Tx, s string) (store.Image, error) {
	imgs, _, err := lookupImages(tx, s)
	if err != nil {
		return store.Image{}, err
	}
	slices.SortFunc(imgs, func(a, b store.Image) int {
		switch {
		case a.Name == b.Name:
			return 0
		case a.Name == "":
			return 1
		case b.Name == "":
			return -1
		case a.Name < b.Name:
			return -1
		}
		return 1
	})
	return imgs[0], nil
}

// Tag gives the image src the name dst as well.
func (e *Engine) Tag(src, dst string) (store.Image, error) {
	ref, err := reference.Parse(dst)
	if err != nil {
		return store.Image{}, err
	}
	if ref.IsDigested() {
		return store.Image{}, fmt.Errorf("tag %q: a tag cannot carry a digest: %w", dst, errdefs.ErrInvalidArgument)
	}
	var img store.Image
	if err := e.db.View(func(tx *store.Tx) (err error) {
		img, err = lookupImage(tx, src)
		return err
	}); err != nil {
		return store.Image{}, err
	}
	img.Name = ref.String()
	if _, err := e.recordImage(img); err != nil {
		return store.Image{}, err
	}
	return img, e.imageEvent(nil, img.Config.String(), familiar(img.Name), "tag")
}
