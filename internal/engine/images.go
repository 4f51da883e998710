package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/reference"
	"github.com/berth-project/berth/internal/store"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// ImageSummary is one line of `berth images`: one name of an image (or a
// dangling image, with no name).
type ImageSummary struct {
	store.Image
	Repository string    // familiar: "busybox", "127.0.0.1:5000/x"; "<none>" when dangling
	Tag        string    // "latest"; "<none>" when dangling or pulled by digest only
	Digest     string    // the repository digest ("sha256:…"): the index's when pulled through one
	Created    time.Time // when the image was built (its config's created)
	Size       int64     // bytes of its unpacked layers
	Labels     map[string]string
}

// Images lists the images that pass every filter ("dangling=true",
// "reference=busy*", "label=k[=v]", "before=<image>", "since=<image>"),
// newest first, as docker does.
func (e *Engine) Images(ctx context.Context, filters []string) ([]ImageSummary, error) {
	var all []store.Image
	if err := e.db.View(func(tx *store.Tx) (err error) {
		all, err = tx.Images()
		return err
	}); err != nil {
		return nil, err
	}
	var out []ImageSummary
	for _, img := range all {
		s, err := e.summary(img)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	match, err := e.imageFilter(out, filters)
	if err != nil {
		return nil, err
	}
	out = slices.DeleteFunc(out, func(s ImageSummary) bool { return !match(s) })
	slices.SortStableFunc(out, func(a, b ImageSummary) int {
		if c := b.Created.Compare(a.Created); c != 0 {
			return c
		}
		return strings.Compare(a.Repository+":"+a.Tag, b.Repository+":"+b.Tag)
	})
	return out, nil
}

// summary describes img for listing.
func (e *Engine) summary(img store.Image) (ImageSummary, error) {
	s := ImageSummary{Image: img, Repository: "<none>", Tag: "<none>", Size: img.Size}
	if img.Name != "" {
		ref, err := reference.Parse(img.Name)
		if err != nil {
			return s, fmt.Errorf("image record %q: %w", img.Name, err)
		}
		s.Repository = strings.TrimSuffix(strings.TrimSuffix(ref.Familiar(), "@"+ref.Digest.String()), ":"+ref.Tag)
		if ref.Tag != "" {
			s.Tag = ref.Tag
		}
	}
	s.Digest = img.Manifest.String()
	if d := img.Labels[LabelIndexDigest]; d != "" {
		s.Digest = d
	}
	if c, err := e.config(img); err == nil {
		if c.Created != nil {
			s.Created = *c.Created
		}
		s.Labels = c.Config.Labels
	}
	return s, nil
}

// config reads img's config from the content store.
func (e *Engine) config(img store.Image) (ocispec.Image, error) {
	var c ocispec.Image
	b, err := e.readBlob(img.Config, 8<<20)
	if err != nil {
		return c, fmt.Errorf("config of %s: %w", img.Name, err)
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return c, fmt.Errorf("config of %s: %v: %w", img.Name, err, errdefs.ErrInvalidArgument)
	}
	return c, nil
}

// imageFilter compiles docker's image filters into one predicate.
func (e *Engine) imageFilter(all []ImageSummary, filters []string) (func(ImageSummary) bool, error) {
	var preds []func(ImageSummary) bool
	for _, f := range filters {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			return nil, fmt.Errorf("filter %q: want key=value: %w", f, errdefs.ErrInvalidArgument)
		}
		switch k {
		case "dangling":
			want := v == "true" || v == "1"
			if !want && v != "false" && v != "0" {
				return nil, fmt.Errorf("filter %q: dangling wants true or false: %w", f, errdefs.ErrInvalidArgument)
			}
			preds = append(preds, func(s ImageSummary) bool { return (s.Name == "") == want })
		case "reference":
			if _, err := path.Match(v, ""); err != nil {
				return nil, fmt.Errorf("filter %q: %v: %w", f, err, errdefs.ErrInvalidArgument)
			}
			preds = append(preds, func(s ImageSummary) bool {
				if s.Name == "" {
					return false
				}
				for _, cand := range []string{s.Repository, s.Repository + ":" + s.Tag, s.Name} {
					if ok, _ := path.Match(v, cand); ok {
						return true
					}
				}
				return false
			})
		case "label":
			lk, lv, hasValue := strings.Cut(v, "=")
			preds = append(preds, func(s ImageSummary) bool {
				got, ok := s.Labels[lk]
				return ok && (!hasValue || got == lv)
			})
		case "before", "since":
			var ref *ImageSummary
			for i := range all {
				if matchesImage(all[i], v) {
					ref = &all[i]
					break
				}
			}
			if ref == nil {
				return nil, fmt.Errorf("filter %q: image %q: %w", f, v, errdefs.ErrNotFound)
			}
			t, before := ref.Created, k == "before"
			preds = append(preds, func(s ImageSummary) bool {
				if before {
					return s.Created.Before(t)
				}
				return s.Created.After(t)
			})
		default:
			return nil, fmt.Errorf("filter %q: unknown key %q (want dangling, reference, label, before or since): %w", f, k, errdefs.ErrInvalidArgument)
		}
	}
	return func(s ImageSummary) bool {
		for _, p := range preds {
			if !p(s) {
				return false
			}
		}
		return true
	}, nil
}

// matchesImage reports whether the user's word s names the listed image:
// by familiar or full name, or by a prefix of its ID.
func matchesImage(sum ImageSummary, s string) bool {
	if sum.Name != "" && (s == sum.Name || s == sum.Repository+":"+sum.Tag || (sum.Tag == "latest" && s == sum.Repository)) {
		return true
	}
	id := strings.TrimPrefix(s, "sha256:")
	return len(id) >= 3 && strings.HasPrefix(sum.Config.Encoded(), id)
}
