package overlay

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/linux/mount"
	"github.com/berth-project/berth/internal/snapshot"
	"github.com/berth-project/berth/internal/snapshot/storage"
)

// Options configure the snapshotter. The zero value is the default.
type Options struct {
	// IndexOn leaves overlay's inode index as the kernel defaults it; by
	// default the mounts ask for index=off (when the kernel knows the
	// option), as a layer is shared by many overlays.
	IndexOn bool
	// UserXattr mounts with overlay's userxattr option, for a mount made
	// in a user namespace (rootless; Linux 5.11 and later): overlay keeps
	// its opaque-directory and other marks in user.overlay.* xattrs, since
	// only the host's root may write trusted.* ones.
	UserXattr bool
}

// Snapshotter is the overlayfs snapshot.Snapshotter.
type Snapshotter struct {
	st        *storage.Store
	indexOff  bool
	userXattr bool
}

var _ snapshot.Snapshotter = (*Snapshotter)(nil)

// New opens the overlay snapshotter at root, creating it if needed and
// removing what a crashed process left half made.
func New(root string, opts Options) (*Snapshotter, error) {
	st, err := storage.Open(root)
	if err != nil {
		return nil, err
	}
	_, err = os.Stat("/sys/module/overlay/parameters/index")
	return &Snapshotter{st: st, indexOff: !opts.IndexOn && err == nil, userXattr: opts.UserXattr}, nil
}

// Stat returns the snapshot named key.
func (s *Snapshotter) Stat(ctx context.Context, key string) (snapshot.Info, error) {
	sn, _, err := s.st.Get(ctx, key)
	return sn.Info, err
}

// Prepare makes an active snapshot: an empty upper directory over parent.
func (s *Snapshotter) Prepare(ctx context.Context, key, parent string, labels map[string]string) ([]mount.Mount, error) {
	return s.create(ctx, snapshot.KindActive, key, parent, labels)
}

// View makes a read-only snapshot of parent.
func (s *Snapshotter) View(ctx context.Context, key, parent string, labels map[string]string) ([]mount.Mount, error) {
	return s.create(ctx, snapshot.KindView, key, parent, labels)
}

func (s *Snapshotter) create(ctx context.Context, kind snapshot.Kind, key, parent string, labels map[string]string) ([]mount.Mount, error) {
	sn, parents, err := s.st.Create(ctx, kind, key, parent, labels, func(dir string, parents []storage.Snapshot) error {
		return s.fill(dir, kind, parents)
	})
	if err != nil {
		return nil, err
	}
	return s.mounts(sn, parents), nil
}

// fill makes fs (and work, for an active snapshot). The upper fs takes the
// mode and owner of the parent's root, so that the merged root looks like
// the parent's until something changes it.
func (s *Snapshotter) fill(dir string, kind snapshot.Kind, parents []storage.Snapshot) error {
	fs := filepath.Join(dir, "fs")
	if err := os.Mkdir(fs, 0o755); err != nil {
		return fmt.Errorf("make %s: %w", fs, err)
	}
	if len(parents) > 0 {
		top := filepath.Join(s.st.Dir(parents[0].ID), "fs")
		fi, err := os.Lstat(top)
		if err != nil {
			return fmt.Errorf("parent %q: %w", parents[0].Info.Key, err)
		}
		st := fi.Sys().(*syscall.Stat_t)
		if err := os.Lchown(fs, int(st.Uid), int(st.Gid)); err != nil {
			return fmt.Errorf("chown %s: %w", fs, err)
		}
		if err := os.Chmod(fs, fi.Mode()&(os.ModePerm|os.ModeSetuid|os.ModeSetgid|os.ModeSticky)); err != nil {
			return fmt.Errorf("chmod %s: %w", fs, err)
		}
	}
	if kind == snapshot.KindActive {
		work := filepath.Join(dir, "work")
		if err := os.Mkdir(work, 0o700); err != nil {
			return fmt.Errorf("make %s: %w", work, err)
		}
	}
	return nil
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
	own := filepath.Join(s.st.Dir(sn.ID), "fs")
	if sn.Info.Kind == snapshot.KindView {
		switch len(parents) {
		case 0:
			return []mount.Mount{{Type: "bind", Source: own, Options: []string{"rbind", "ro"}}}
		case 1:
			return []mount.Mount{{Type: "bind", Source: filepath.Join(s.st.Dir(parents[0].ID), "fs"), Options: []string{"rbind", "ro"}}}
		}
		return []mount.Mount{{Type: "overlay", Source: "overlay", Options: append(s.overlayOptions(), "lowerdir="+s.lowerdirs(parents))}}
	}
	if len(parents) == 0 {
		return []mount.Mount{{Type: "bind", Source: own, Options: []string{"rbind", "rw"}}}
	}
	return []mount.Mount{{Type: "overlay", Source: "overlay", Options: append(s.overlayOptions(),
		"lowerdir="+s.lowerdirs(parents),
		"upperdir="+own,
		"workdir="+filepath.Join(s.st.Dir(sn.ID), "work"),
	)}}
}

func (s *Snapshotter) overlayOptions() []string {
	var o []string
	if s.indexOff {
		o = append(o, "index=off")
	}
	if s.userXattr {
		o = append(o, "userxattr")
	}
	return o
}

func (s *Snapshotter) lowerdirs(parents []storage.Snapshot) string {
	dirs := make([]string, len(parents))
	for i, p := range parents {
		dirs[i] = filepath.Join(s.st.Dir(p.ID), "fs")
	}
	return strings.Join(dirs, ":")
}

// Commit turns the active snapshot key into the committed snapshot name.
// Its fs stays; its work directory goes.
func (s *Snapshotter) Commit(ctx context.Context, name, key string, labels map[string]string) error {
	sn, err := s.st.Commit(ctx, name, key, labels)
	if err != nil {
		return err
	}
	// Best effort: a leftover work directory costs nothing but an inode.
	_ = os.RemoveAll(filepath.Join(s.st.Dir(sn.ID), "work"))
	return nil
}

// Remove deletes the snapshot key and its directory.
func (s *Snapshotter) Remove(ctx context.Context, key string) error {
	return s.st.Remove(ctx, key)
}

// Walk calls fn for every snapshot.
func (s *Snapshotter) Walk(ctx context.Context, fn func(snapshot.Info) error) error {
	return s.st.Walk(ctx, func(sn storage.Snapshot) error { return fn(sn.Info) })
}

// Usage returns the disk usage of key's own fs (for an active snapshot,
// what it has written so far).
func (s *Snapshotter) Usage(ctx context.Context, key string) (snapshot.Usage, error) {
	sn, _, err := s.st.Get(ctx, key)
	if err != nil {
		return snapshot.Usage{}, err
	}
	return storage.DiskUsage(filepath.Join(s.st.Dir(sn.ID), "fs"))
}

// Close releases nothing: the snapshotter keeps no file open between calls.
func (s *Snapshotter) Close() error { return nil }
