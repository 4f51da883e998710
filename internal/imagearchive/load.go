package imagearchive

import (
	"context"
	"fmt"
	"io"
	"slices"

	"github.com/berth-project/berth/internal/content"
	"github.com/berth-project/berth/internal/errdefs"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Load reads an archive (docker-archive or oci-archive, plain, gzip or zstd)
// into the store and returns the images it holds, in the archive's order.
// Every blob is verified before it is committed; on any error no ingest is
// left behind and no blob of the archive is committed. Loading the same
// archive again gives the same result.
//
// Load adds no GC roots: the caller names the images (content.AddRoot)
// before the store's GC grace period ends.
func Load(ctx context.Context, r io.Reader, cs *content.Store) ([]Named, error) {
	s, err := readSpool(ctx, r, cs)
	if err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	var res loaded
	switch {
	case s.has("manifest.json"):
		res, err = loadDocker(s)
	case s.has(ocispec.ImageLayoutFile), s.has(ocispec.ImageIndexFile):
		res, err = loadOCI(s)
	default:
		err = fmt.Errorf("archive holds neither manifest.json nor %s: %w", ocispec.ImageLayoutFile, errdefs.ErrInvalidArgument)
	}
	if err != nil {
		s.discard()
		return nil, fmt.Errorf("load: %w", err)
	}
	if err := ctx.Err(); err != nil {
		s.discard()
		return nil, fmt.Errorf("load: %w", err)
	}
	if err := s.commit(res.keep); err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	return res.images, nil
}

// loaded is what a format's loader decided: the images, and the members
// (and new documents, as in-memory members) to commit.
type loaded struct {
	images []Named
	keep   []*member
}

func (l *loaded) add(n Named) {
	if !slices.ContainsFunc(l.images, func(x Named) bool { return x.Name == n.Name && x.Target.Digest == n.Target.Digest }) {
		l.images = append(l.images, n)
	}
}

func (l *loaded) keepMember(m *member) {
	if !slices.Contains(l.keep, m) {
		l.keep = append(l.keep, m)
	}
}

func (s *spool) has(name string) bool {
	_, ok := s.members[name]
	_, isLink := s.links[name]
	return ok || isLink
}
