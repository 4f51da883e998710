package engine

import (
	"context"
	"sort"
	"time"

	"github.com/berth-project/berth/internal/store"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// ImageInspect is `berth image inspect`'s answer, in docker's field names
// so that scripts written for `docker image inspect` keep working.
type ImageInspect struct {
	ID           string              `json:"Id"`
	RepoTags     []string            `json:"RepoTags"`
	RepoDigests  []string            `json:"RepoDigests"`
	Created      string              `json:"Created"`
	Author       string              `json:"Author,omitempty"`
	Config       ocispec.ImageConfig `json:"Config"`
	Architecture string              `json:"Architecture"`
	Variant      string              `json:"Variant,omitempty"`
	Os           string              `json:"Os"`
	Size         int64               `json:"Size"`
	RootFS       struct {
		Type   string          `json:"Type"`
		Layers []digest.Digest `json:"Layers"`
	} `json:"RootFS"`
	History  []ocispec.History `json:"History,omitempty"`
	Metadata struct {
		LastTagTime string `json:"LastTagTime,omitempty"`
	} `json:"Metadata"`
	// Berth's own: where the image's pieces are.
	Manifest      ocispec.Descriptor `json:"Manifest"`
	StorageDriver string             `json:"StorageDriver"`
	ChainID       digest.Digest      `json:"ChainID,omitempty"`
}

// InspectImage describes the image the user's word s names.
func (e *Engine) InspectImage(ctx context.Context, s string) (ImageInspect, error) {
	var img store.Image
	var all []store.Image
	err := e.db.View(func(tx *store.Tx) (err error) {
		if img, err = lookupImage(tx, s); err != nil {
			return err
		}
		all, err = tx.ImagesByConfig(img.Config)
		return err
	})
	if err != nil {
		return ImageInspect{}, err
	}
	c, err := e.config(img)
	if err != nil {
		return ImageInspect{}, err
	}
	out := ImageInspect{
		ID:            img.Config.String(),
		RepoTags:      []string{},
		RepoDigests:   []string{},
		Author:        c.Author,
		Config:        c.Config,
		Architecture:  c.Architecture,
		Variant:       c.Variant,
		Os:            c.OS,
		Size:          img.Size,
		History:       c.History,
		Manifest:      img.Target,
		StorageDriver: e.driver,
	}
	if c.Created != nil {
		out.Created = c.Created.UTC().Format(time.RFC3339Nano)
	}
	out.RootFS.Type = c.RootFS.Type
	out.RootFS.Layers = c.RootFS.DiffIDs
	ids, _ := e.chainIDs(img)
	if len(ids) > 0 {
		out.ChainID = ids[len(ids)-1]
	}
	var last time.Time
	for _, i := range all {
		sum, err := e.summary(i)
		if err != nil {
			return ImageInspect{}, err
		}
		if i.Name != "" && sum.Tag != "<none>" {
			out.RepoTags = append(out.RepoTags, sum.Repository+":"+sum.Tag)
		}
		if i.Name != "" {
			rd := sum.Repository + "@" + sum.Digest
			if !contains(out.RepoDigests, rd) {
				out.RepoDigests = append(out.RepoDigests, rd)
			}
		}
		if i.Created.After(last) {
			last = i.Created
		}
	}
	sort.Strings(out.RepoTags)
	sort.Strings(out.RepoDigests)
	if !last.IsZero() {
		out.Metadata.LastTagTime = last.Format(time.RFC3339Nano)
	}
	return out, nil
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
