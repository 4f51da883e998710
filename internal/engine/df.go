package engine

import (
	"context"

	"github.com/berth-project/berth/internal/content"
	"github.com/berth-project/berth/internal/snapshot"
	"github.com/berth-project/berth/internal/store"
)

// DiskUsage is `berth system df`: what each kind of object takes on disk.
type DiskUsage struct {
	Images struct {
		Total, Active int
		// Size is the unpacked layers plus the blobs they came from (the
		// content store keeps compressed layers for push and save).
		Size, Reclaimable int64
		Layers, Blobs     int64 // the two parts of Size
	}
	Containers struct {
		Total, Active     int
		Size, Reclaimable int64
	}
	Volumes struct {
		Total, Active     int
		Size, Reclaimable int64
	}
}

// DiskUsage measures the storage root.
func (e *Engine) DiskUsage(ctx context.Context) (DiskUsage, error) {
	var du DiskUsage
	var imgs []store.Image
	if err := e.db.View(func(tx *store.Tx) (err error) {
		imgs, err = tx.Images()
		return err
	}); err != nil {
		return du, err
	}
	ids := map[string]bool{}
	for _, i := range imgs {
		ids[i.Config.String()] = true
	}
	du.Images.Total = len(ids)
	err := e.snap.Walk(ctx, func(i snapshot.Info) error {
		if i.Kind != snapshot.KindCommitted {
			return nil
		}
		u, err := e.snap.Usage(ctx, i.Key)
		if err != nil {
			return err
		}
		du.Images.Layers += u.Size
		return nil
	})
	if err != nil {
		return du, err
	}
	if err := e.content.Walk(func(i content.Info) error {
		du.Images.Blobs += i.Size
		return nil
	}); err != nil {
		return du, err
	}
	du.Images.Size = du.Images.Layers + du.Images.Blobs
	// No container uses an image yet: all of it could be reclaimed by
	// removing the images.
	du.Images.Reclaimable = du.Images.Size
	return du, nil
}
