package native

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/linux/mount"
	"github.com/berth-project/berth/internal/snapshot"
	"github.com/berth-project/berth/internal/snapshot/storage"
)

// Snapshotter is the copying snapshot.Snapshotter.
type Snapshotter struct {
	st *storage.Store
}

var _ snapshot.Snapshotter = (*Snapshotter)(nil)

// New opens the native snapshotter at root, creating it if needed and
// removing what a crashed process left half made.
func New(root string) (*Snapshotter, error) {
	st, err := storage.Open(root)
	if err != nil {
		return nil, err
	}
	return &Snapshotter{st: st}, nil
}

// Stat returns the snapshot named key.
func (s *Snapshotter) Stat(ctx context.Context, key string) (snapshot.Info, error) {
	sn, _, err := s.st.Get(ctx, key)
	return sn.Info, err
}

// Prepare makes an active snapshot: a copy of parent's tree (or an empty
// directory).
func (s *Snapshotter) Prepare(ctx context.Context, key, parent string, labels map[string]string) ([]mount.Mount, error) {
	return s.create(ctx, snapshot.KindActive, key, parent, labels)
}

// View makes a read-only snapshot of parent, without copying it.
func (s *Snapshotter) View(ctx context.Context, key, parent string, labels map[string]string) ([]mount.Mount, error) {
	return s.create(ctx, snapshot.KindView, key, parent, labels)
}

func (s *Snapshotter) create(ctx context.Context, kind snapshot.Kind, key, parent string, labels map[string]string) ([]mount.Mount, error) {
	sn, parents, err := s.st.Create(ctx, kind, key, parent, labels, func(dir string, parents []storage.Snapshot) error {
		fs := filepath.Join(dir, "fs")
		if kind == snapshot.KindView || len(parents) == 0 {
			if err := os.Mkdir(fs, 0o755); err != nil {
				return fmt.Errorf("make %s: %w", fs, err)
			}
			return nil
		}
		return copyTree(s.fsDir(parents[0]), fs)
	})
	if err != nil {
		return nil, err
	}
	return s.mounts(sn, parents), nil
}

// Mounts returns the mounts of the active snapshot or view key.
func (s *Snapshotter) Mounts(ctx context.Context, key string) ([]mount.Mount, error) {
	sn, parents, err := s.st.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	if sn.Info.Kind == snapshot.KindCommitted {
		return nil, fmt.Errorf("mounts of snapshot %q: it is committed (make a view of it): %w", key, errdefs.ErrFailedPrecondition)
	}
	return s.mounts(sn, parents), nil
}

func (s *Snapshotter) mounts(sn storage.Snapshot, parents []storage.Snapshot) []mount.Mount {
	if sn.Info.Kind == snapshot.KindView {
		src := s.fsDir(sn)
		if len(parents) > 0 {
			src = s.fsDir(parents[0])
		}
		return []mount.Mount{{Type: "bind", Source: src, Options: []string{"rbind", "ro"}}}
	}
	return []mount.Mount{{Type: "bind", Source: s.fsDir(sn), Options: []string{"rbind", "rw"}}}
}

func (s *Snapshotter) fsDir(sn storage.Snapshot) string {
	return filepath.Join(s.st.Dir(sn.ID), "fs")
}

// Commit turns the active snapshot key into the committed snapshot name;
// its tree stays where it is.
func (s *Snapshotter) Commit(ctx context.Context, name, key string, labels map[string]string) error {
	_, err := s.st.Commit(ctx, name, key, labels)
	return err
}

// Remove deletes the snapshot key and its tree.
func (s *Snapshotter) Remove(ctx context.Context, key string) error {
	return s.st.Remove(ctx, key)
}

// Walk calls fn for every snapshot.
func (s *Snapshotter) Walk(ctx context.Context, fn func(snapshot.Info) error) error {
	return s.st.Walk(ctx, func(sn storage.Snapshot) error { return fn(sn.Info) })
}

// Usage returns the disk usage of key's own tree (the whole copy).
func (s *Snapshotter) Usage(ctx context.Context, key string) (snapshot.Usage, error) {
	sn, _, err := s.st.Get(ctx, key)
	if err != nil {
		return snapshot.Usage{}, err
	}
	return storage.DiskUsage(s.fsDir(sn))
}

// Close releases nothing: the snapshotter keeps no file open between calls.
func (s *Snapshotter) Close() error { return nil }
