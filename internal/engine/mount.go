package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/image"
	"github.com/berth-project/berth/internal/linux/mount"
	"github.com/berth-project/berth/internal/store"
	digest "github.com/opencontainers/go-digest"
)

// MountImage mounts the image the user's word s names read-only and
// returns where: <RunRoot>/image-mounts/<image ID>, as `podman image mount`
// does. Mounting a mounted image returns the same place.
func (e *Engine) MountImage(ctx context.Context, s string) (string, error) {
	var img store.Image
	if err := e.db.View(func(tx *store.Tx) (err error) {
		img, err = lookupImage(tx, s)
		return err
	}); err != nil {
		return "", err
	}
	c, err := e.config(img)
	if err != nil {
		return "", err
	}
	if len(c.RootFS.DiffIDs) == 0 {
		return "", fmt.Errorf("image %s has no layers to mount: %w", s, errdefs.ErrFailedPrecondition)
	}
	key, dir := e.imageMount(img)
	if mounted(dir) {
		return dir, nil
	}
	ms, err := e.snap.View(ctx, key, image.ChainID(c.RootFS.DiffIDs).String(), nil)
	if errdefs.IsAlreadyExists(err) {
		ms, err = e.snap.Mounts(ctx, key) // a mount that went away (reboot)
	}
	if err != nil {
		return "", fmt.Errorf("mount image %s: %w", s, err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	if err := mount.All(ms, dir); err != nil {
		_ = e.snap.Remove(ctx, key)
		_ = os.Remove(dir)
		return "", fmt.Errorf("mount image %s: %w", s, err)
	}
	return dir, nil
}

// UnmountImage undoes MountImage.
func (e *Engine) UnmountImage(ctx context.Context, s string) error {
	var img store.Image
	if err := e.db.View(func(tx *store.Tx) (err error) {
		img, err = lookupImage(tx, s)
		return err
	}); err != nil {
		return err
	}
	key, dir := e.imageMount(img)
	if err := mount.Unmount(dir); err != nil {
		return err
	}
	if err := os.Remove(dir); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if err := e.snap.Remove(ctx, key); err != nil {
		if errdefs.IsNotFound(err) {
			return fmt.Errorf("image %s is not mounted: %w", s, errdefs.ErrNotFound)
		}
		return err
	}
	return nil
}

// dropImageMount unmounts the image mount of image ID id, if there is
// one, and removes its view: an image that goes takes its mount with it,
// as with podman rmi (else nothing could unmount it any more).
func (e *Engine) dropImageMount(ctx context.Context, id digest.Digest) error {
	key, dir := e.imageMount(store.Image{Config: id})
	if mounted(dir) {
		if err := mount.Unmount(dir); err != nil {
			return fmt.Errorf("unmount image %s: %w", shortID(id), err)
		}
	}
	if err := os.Remove(dir); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if err := e.snap.Remove(ctx, key); err != nil && !errdefs.IsNotFound(err) {
		return err
	}
	return nil
}

// imageMount names the view and the mount point of img's mount.
func (e *Engine) imageMount(img store.Image) (key, dir string) {
	id := img.Config.Encoded()
	return imageMountPrefix + id, filepath.Join(e.cfg.RunRoot, "image-mounts", id)
}

const imageMountPrefix = "image-mount-"

// mounted reports whether something is mounted on dir.
func mounted(dir string) bool {
	ms, err := mount.Mounts()
	if err != nil {
		return false
	}
	for _, m := range ms {
		if m.Point == dir {
			return true
		}
	}
	return false
}
