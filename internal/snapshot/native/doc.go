// Package native is the snapshotter for filesystems without overlayfs:
// every active snapshot is a full copy of its parent's tree, mounted as a
// bind. It costs a copy per snapshot and the disk of every copy, but needs
// nothing of the filesystem beyond what a layer's files need (xattrs,
// device nodes, hard links).
//
// On-disk layout under the root (records and crash consistency: package
// internal/snapshot/storage):
//
//	metadata.db, lock        the records (storage)
//	snapshots/<id>/fs        the snapshot's whole tree: for an active or
//	                         committed snapshot a copy of its parent's fs
//	                         (then changed in place); empty for a view
//	snapshots/tmp-*/         being made (copied) or removed
//
// Mounts are one bind mount: "rbind","rw" of its own fs for an active
// snapshot; "rbind","ro" of the parent's fs for a view (a committed parent
// never changes and cannot be removed while the view exists, so a view
// copies nothing). Layers are applied with plain deletes, so a native tree
// never holds overlay whiteouts.
//
// Example:
//
//	sn, err := native.New(root)
//	mounts, err := sn.Prepare(ctx, "extract-2", chainID1, nil)
//	f, err := mount.Detached(mounts[0]) // apply the layer beneath f
package native
