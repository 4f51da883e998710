// Package snapshot defines how Berth stores unpacked image layers and
// container root filesystems: a Snapshotter keeps a tree of snapshots and
// describes each as mounts. It never mounts anything itself; one place
// (internal/linux/mount) acts on the mounts it returns.
//
// There are three kinds of snapshot. A committed snapshot is immutable and
// can be the parent of others (one per image layer chain, named by the
// chain ID). An active snapshot is writable, made on top of a committed
// parent (or empty), and becomes committed with Commit. A view is a
// read-only active snapshot that can never be committed.
//
// Worked example — importing the two layers of an image:
//
//	// layer 1: an empty active snapshot, fill it, commit it by chain ID
//	mounts, err := sn.Prepare(ctx, "extract-1", "", nil)
//	// … apply layer 1's tar to mounts (see internal/unpack) …
//	err = sn.Commit(ctx, chainID1, "extract-1", nil)
//
//	// layer 2: on top of layer 1
//	mounts, err = sn.Prepare(ctx, "extract-2", chainID1, nil)
//	// … apply layer 2's tar …
//	err = sn.Commit(ctx, chainID2, "extract-2", nil)
//
//	// a container: a writable snapshot on top of the image's top layer
//	mounts, err = sn.Prepare(ctx, "ctr-<id>", chainID2, nil)
//	// mount.All(mounts, bundle+"/rootfs")
//
// Keys are unique across all kinds. Removing a committed snapshot that is
// a parent fails with errdefs.ErrFailedPrecondition. Implementations live
// in the subpackages overlay (overlayfs) and native (plain copies, where
// overlayfs is not available); the testsuite subpackage checks any
// Snapshotter against this contract.
package snapshot

import (
	"context"
	"time"

	"github.com/berth-project/berth/internal/linux/mount"
)

// Kind is the kind of a snapshot.
type Kind int

// The kinds of snapshot.
const (
	KindUnknown Kind = iota
	KindView
	KindActive
	KindCommitted
)

func (k Kind) String() string {
	switch k {
	case KindView:
		return "view"
	case KindActive:
		return "active"
	case KindCommitted:
		return "committed"
	}
	return "unknown"
}

// Info describes a snapshot.
type Info struct {
	Key     string            // the name of a committed snapshot, or the key of an active one
	Parent  string            // the committed parent's name, "" for none
	Kind    Kind              // view, active or committed
	Created time.Time         // when Prepare, View or Commit made it
	Labels  map[string]string // free-form, set at Prepare/View/Commit
}

// Usage is the disk usage of one snapshot, without its parents.
type Usage struct {
	Size   int64 // bytes of disk
	Inodes int64 // files, directories, links
}

// Snapshotter stores snapshots. Methods are safe for concurrent use, from
// several goroutines and several processes sharing one root directory.
// Errors are classed with errdefs: ErrNotFound for an unknown key or
// parent, ErrAlreadyExists for a key in use, ErrFailedPrecondition for a
// wrong kind (committing a view or a committed snapshot, parenting on an
// active snapshot or a view, asking the mounts of a committed snapshot —
// make a View of it) or removing a parent, ErrInvalidArgument for an empty
// key. A failed call leaves nothing behind; so does a process killed in the
// middle of one, once the snapshotter is opened again.
type Snapshotter interface {
	// Stat returns the snapshot named key.
	Stat(ctx context.Context, key string) (Info, error)
	// Prepare makes an active snapshot key on top of the committed
	// snapshot parent ("" for an empty one) and returns its mounts.
	Prepare(ctx context.Context, key, parent string, labels map[string]string) ([]mount.Mount, error)
	// View makes a read-only snapshot key of parent and returns its mounts.
	View(ctx context.Context, key, parent string, labels map[string]string) ([]mount.Mount, error)
	// Mounts returns the mounts of the active snapshot or view key.
	Mounts(ctx context.Context, key string) ([]mount.Mount, error)
	// Commit turns the active snapshot key into the committed snapshot
	// name, with labels (the active snapshot's are not carried over); key
	// no longer exists afterwards. The active snapshot must not be mounted
	// any more.
	Commit(ctx context.Context, name, key string, labels map[string]string) error
	// Remove deletes the snapshot key and its data.
	Remove(ctx context.Context, key string) error
	// Walk calls fn for every snapshot, in no particular order.
	Walk(ctx context.Context, fn func(Info) error) error
	// Usage returns the disk usage of key alone.
	Usage(ctx context.Context, key string) (Usage, error)
	// Close releases the snapshotter's resources.
	Close() error
}
