package engine

import (
	"context"
	"fmt"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/reference"
	"github.com/berth-project/berth/internal/registry"
	"github.com/berth-project/berth/internal/store"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Login checks user and password against the registry server and stores
// them in the engine's credentials file.
func (e *Engine) Login(ctx context.Context, server, user, password string) error {
	return e.registry.Login(ctx, server, user, password, e.cfg.AuthFile)
}

// Logout forgets the credentials of server.
func (e *Engine) Logout(server string) error {
	return registry.Logout(server, e.cfg.AuthFile)
}

// ListTags lists the tags of name's repository in its registry.
func (e *Engine) ListTags(ctx context.Context, name string) ([]string, error) {
	ref, err := reference.Parse(name)
	if err != nil {
		return nil, err
	}
	return e.registry.Tags(ctx, ref)
}

// PushOptions tune a push.
type PushOptions struct {
	// Progress hears of every blob: current == 0 when it starts, == total
	// when done; exists when the registry had it already.
	Progress func(desc ocispec.Descriptor, current, total int64, exists bool)
}

// PushResult is what a push put in the registry.
type PushResult struct {
	Ref        reference.Reference
	Tag        string             // the tag pushed ("latest"), or the digest for a digest name
	Descriptor ocispec.Descriptor // the manifest (or index) pushed
}

// Push uploads the local image name to the registry its name points at.
func (e *Engine) Push(ctx context.Context, name string, opts PushOptions) (PushResult, error) {
	ref, err := reference.Parse(name)
	if err != nil {
		return PushResult{}, err
	}
	var img store.Image
	if err := e.db.View(func(tx *store.Tx) (err error) {
		img, err = tx.Image(ref.String())
		return err
	}); err != nil {
		if errdefs.IsNotFound(err) {
			return PushResult{}, fmt.Errorf("image %s: no such image here (tag an image with that name first): %w", ref.Familiar(), errdefs.ErrNotFound)
		}
		return PushResult{}, err
	}
	var progress registry.Progress
	if opts.Progress != nil {
		progress = func(desc ocispec.Descriptor, current, total int64) {
			opts.Progress(desc, current, total, false)
		}
	}
	if err := e.registry.Push(ctx, e.content, ref, img.Target, progress); err != nil {
		return PushResult{}, fmt.Errorf("push %s: %w", ref.Familiar(), err)
	}
	tag := ref.Tag
	if tag == "" {
		tag = ref.Digest.String()
	}
	return PushResult{Ref: ref, Tag: tag, Descriptor: img.Target}, e.imageEvent(nil, ref.Familiar(), stripTag(ref.Familiar()), "push")
}
