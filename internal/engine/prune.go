package engine

import (
	"context"

	"github.com/berth-project/berth/internal/store"
	digest "github.com/opencontainers/go-digest"
)

// PruneResult says what an image prune removed.
type PruneResult struct {
	Untagged  []string
	Deleted   []digest.Digest // image IDs
	Reclaimed int64           // bytes
}

// PruneImages removes dangling images — with all, every image but those
// mounted by MountImage — and then whatever no image needs any more
// (snapshots, blobs, stale roots and unpacks of dead processes).
func (e *Engine) PruneImages(ctx context.Context, all bool) (PruneResult, error) {
	var res PruneResult
	var imgs []store.Image
	if err := e.db.View(func(tx *store.Tx) (err error) {
		imgs, err = tx.Images()
		return err
	}); err != nil {
		return res, err
	}
	inUse := map[digest.Digest]bool{}
	if err := e.db.View(func(tx *store.Tx) error {
		cs, err := store.List[Container](tx, store.Containers)
		for _, c := range cs {
			inUse[c.ImageID] = true
		}
		return err
	}); err != nil {
		return res, err
	}
	for _, img := range imgs {
		if img.Name != "" && !all || inUse[img.Config] {
			continue
		}
		if _, dir := e.imageMount(img); mounted(dir) {
			continue // berth image mount keeps it, as it keeps its layers
		}
		r, err := e.removeImage(recordKeyWord(img), true)
		if err != nil {
			return res, err
		}
		res.Untagged = append(res.Untagged, r.Untagged...)
		for _, d := range r.Deleted {
			res.Deleted = appendOnce(res.Deleted, d)
		}
	}
	gc, err := e.collect(ctx)
	res.Reclaimed = gc.Reclaimed
	return res, e.imagesRemoved(err, RemoveResult{Untagged: res.Untagged, Deleted: res.Deleted})
}

// recordKeyWord is a word that lookupImages resolves to img alone.
func recordKeyWord(img store.Image) string { return recordKey(img) }
