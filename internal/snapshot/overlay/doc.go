// Package overlay is the overlayfs snapshotter: every snapshot is one
// directory, and a snapshot on top of others is an overlay mount whose
// lower layers are its committed parents' directories.
//
// On-disk layout under the root (records and crash consistency: package
// internal/snapshot/storage):
//
//	metadata.db, lock        the records (storage)
//	snapshots/<id>/fs        the snapshot's files: the upperdir of an active
//	                         snapshot, a lowerdir once committed
//	snapshots/<id>/work      overlay's workdir while the snapshot is active
//	                         (removed at Commit)
//	snapshots/tmp-*/         being made or removed
//
// Mounts of an active snapshot with parents are one overlay mount
// (lowerdir=parents nearest first, upperdir, workdir); without a parent a
// read-write bind of its fs. A view of one parent is a read-only bind of the
// parent's fs; a view of more is a read-only overlay of lowerdirs only.
// Upper directories hold overlay's own whiteouts (character devices 0/0)
// and opaque directories (xattr trusted.overlay.opaque=y; with
// Options.UserXattr, in a rootless engine's user namespace,
// user.overlay.opaque=y).
//
// Limits of the lowerdir option: mount(2) (mount.All) takes it within a
// page with the other options (about 90 layers under /var/lib/berth);
// fsconfig(2) (mount.Detached) takes each option's value up to 256 bytes
// only, about 5 layers, unless the mount is made with one "lowerdir+" per
// layer (Linux 6.8 and later).
//
// Example:
//
//	if err := overlay.Supported(root); err != nil {
//		// fall back to the native snapshotter
//	}
//	sn, err := overlay.New(root, overlay.Options{})
//	mounts, err := sn.Prepare(ctx, "ctr-1", chainID, nil)
//	err = mount.All(mounts, rootfs)
package overlay
