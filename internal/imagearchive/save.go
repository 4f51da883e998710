package imagearchive

import (
	"context"
	"fmt"
	"io"

	"github.com/berth-project/berth/internal/content"
	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/reference"
)

// Save writes images to w as one archive of the given format (see the
// package doc for both layouts). Images may share blobs, which are written
// once; an image with an empty Name is saved untagged. On error, what was
// written to w is not a usable archive.
func Save(ctx context.Context, w io.Writer, cs *content.Store, images []Named, format Format) error {
	if len(images) == 0 {
		return fmt.Errorf("save: no images: %w", errdefs.ErrInvalidArgument)
	}
	for _, img := range images {
		if img.Name != "" {
			if _, err := reference.Parse(img.Name); err != nil {
				return fmt.Errorf("save: %w", err)
			}
		}
		if img.Target.Digest == "" {
			return fmt.Errorf("save %q: no target digest: %w", img.Name, errdefs.ErrInvalidArgument)
		}
	}
	tw := newTarWriter(ctx, w)
	var err error
	switch format {
	case DockerArchive:
		err = saveDocker(tw, cs, images)
	case OCIArchive:
		err = saveOCI(tw, cs, images)
	default:
		_, err = ParseFormat(string(format))
	}
	if err != nil {
		return fmt.Errorf("save %s: %w", format, err)
	}
	if err := tw.close(); err != nil {
		return fmt.Errorf("save %s: %w", format, err)
	}
	return nil
}
