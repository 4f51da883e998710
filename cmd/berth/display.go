package main

import (
	"io"
	"strings"

	"github.com/berth-project/berth/internal/progress"
	"github.com/berth-project/berth/internal/unpack"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// pullDisplay shows a pull's unpack events as docker pull does.
type pullDisplay struct{ *progress.Display }

func newPullDisplay(w io.Writer, quiet bool) pullDisplay {
	return pullDisplay{progress.New(w, progress.Options{Quiet: quiet})}
}

// pullStatus maps the unpacker's phases to docker's words.
var pullStatus = map[unpack.Phase]progress.Status{
	unpack.Waiting:       progress.Waiting,
	unpack.Downloading:   progress.Downloading,
	unpack.Verifying:     progress.VerifyingChecksum,
	unpack.Extracting:    progress.Extracting,
	unpack.Done:          progress.PullComplete,
	unpack.AlreadyExists: progress.AlreadyExists,
}

func (d pullDisplay) event(ev unpack.Event) {
	s, ok := pullStatus[ev.Phase]
	if !ok {
		return
	}
	d.Update(ev.Layer.Digest.String(), s, ev.Current, ev.Total)
}

// pushDisplay shows a push as docker push does.
type pushDisplay struct{ *progress.Display }

func newPushDisplay(w io.Writer, quiet bool) pushDisplay {
	return pushDisplay{progress.New(w, progress.Options{Quiet: quiet})}
}

func (d pushDisplay) update(desc ocispec.Descriptor, current, total int64, exists bool) {
	if !isLayer(desc.MediaType) {
		return // docker shows layers only, not the config or manifests
	}
	id := desc.Digest.String()
	switch {
	case exists:
		d.Update(id, progress.LayerAlreadyExists, total, total)
	case current >= total:
		d.Update(id, progress.Pushed, total, total)
	case current == 0:
		d.Update(id, progress.Preparing, 0, total)
	default:
		d.Update(id, progress.Pushing, current, total)
	}
}

// isLayer reports whether mediaType is an OCI or Docker layer's.
func isLayer(mediaType string) bool {
	return strings.Contains(mediaType, ".layer.") || strings.Contains(mediaType, ".rootfs.diff.") ||
		strings.Contains(mediaType, ".rootfs.foreign.")
}
