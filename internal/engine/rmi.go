package engine

import (
	"context"
	"fmt"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/reference"
	"github.com/berth-project/berth/internal/store"
	digest "github.com/opencontainers/go-digest"
)

// RemoveResult says what removing one image did, as docker prints it.
type RemoveResult struct {
	Untagged []string        // familiar names taken off
	Deleted  []digest.Digest // image IDs gone with their last name
}

// RemoveImage takes the name s off its image, or — when s is an image ID
// — every name; an image left with no name is deleted, with its image
// mount, and what only it used (snapshots, blobs) is collected. An ID
// with several names needs force, as in docker.
func (e *Engine) RemoveImage(ctx context.Context, s string, force bool) (RemoveResult, error) {
	res, err := e.removeImage(s, force)
	for _, id := range res.Deleted {
		if err := e.dropImageMount(ctx, id); err != nil {
			return res, err
		}
	}
	if err == nil && len(res.Deleted) > 0 {
		if _, err := e.collect(ctx); err != nil {
			return res, fmt.Errorf("collect the layers of %s: %w", s, err)
		}
	}
	return res, e.imagesRemoved(err, res)
}

// removeImage removes records and roots, leaving collection to the caller.
func (e *Engine) removeImage(s string, force bool) (RemoveResult, error) {
	var res RemoveResult
	var gone []digest.Digest // targets that lost their last record
	err := e.db.Update(func(tx *store.Tx) error {
		imgs, byName, err := lookupImages(tx, s)
		if err != nil {
			return err
		}
		if !force {
			if users, err := imageUsers(tx, imgs[0].Config); err != nil {
				return err
			} else if len(users) > 0 && (!byName || len(imgs) == 1 && countOthers(tx, imgs[0]) == 0) {
				return fmt.Errorf("unable to remove %s (must be forced): container %s is using it: %w", s, users[0], errdefs.ErrFailedPrecondition)
			}
		}
		if !byName {
			// By ID: every record of it goes.
			all, err := tx.ImagesByConfig(imgs[0].Config)
			if err != nil {
				return err
			}
			if named := countNamed(all); named > 1 && !force {
				return fmt.Errorf("unable to delete %s (must be forced): image is referenced in %d names: %w", shortID(imgs[0].Config), named, errdefs.ErrFailedPrecondition)
			}
			imgs = all
		}
		targets := map[digest.Digest]bool{}
		for _, img := range imgs {
			if err := tx.DeleteImage(recordKey(img)); err != nil {
				return err
			}
			targets[img.Target.Digest] = true
			if img.Name != "" {
				res.Untagged = append(res.Untagged, familiar(img.Name))
			}
		}
		for t := range targets {
			left, err := tx.ImagesByConfig(imgs[0].Config)
			if err != nil {
				return err
			}
			if !hasTarget(left, t) {
				gone = append(gone, t)
			}
			if len(left) == 0 {
				res.Deleted = appendOnce(res.Deleted, imgs[0].Config)
			}
		}
		return nil
	})
	if err != nil {
		return res, err
	}
	for _, t := range gone {
		if err := e.content.RemoveRoot(imageRoot(t)); err != nil && !errdefs.IsNotFound(err) {
			return res, err
		}
	}
	return res, nil
}

// recordKey is the store key of img: its name, or "@"+target if dangling.
func recordKey(img store.Image) string {
	if img.Name == "" {
		return "@" + img.Target.Digest.String()
	}
	return img.Name
}

func countNamed(imgs []store.Image) int {
	n := 0
	for _, i := range imgs {
		if i.Name != "" {
			n++
		}
	}
	return n
}

func hasTarget(imgs []store.Image, t digest.Digest) bool {
	for _, i := range imgs {
		if i.Target.Digest == t {
			return true
		}
	}
	return false
}

func appendOnce(ds []digest.Digest, d digest.Digest) []digest.Digest {
	for _, x := range ds {
		if x == d {
			return ds
		}
	}
	return append(ds, d)
}

// familiar shortens a full name as docker prints it.
func familiar(name string) string {
	if ref, err := reference.Parse(name); err == nil {
		return ref.Familiar()
	}
	return name
}

// shortID is the 12-hex ID docker shows.
func shortID(d digest.Digest) string {
	h := d.Encoded()
	if len(h) > 12 {
		h = h[:12]
	}
	return h
}

// imageUsers names the containers made from the image id.
func imageUsers(tx *store.Tx, id digest.Digest) ([]string, error) {
	cs, err := store.List[Container](tx, store.Containers)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, c := range cs {
		if c.ImageID == id {
			names = append(names, c.Name)
		}
	}
	return names, nil
}

// countOthers counts the other records of img's image.
func countOthers(tx *store.Tx, img store.Image) int {
	all, err := tx.ImagesByConfig(img.Config)
	if err != nil {
		return 0
	}
	return len(all) - 1
}
