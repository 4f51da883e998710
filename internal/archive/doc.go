// Package archive applies OCI and Docker image layers (tar streams) to a
// directory, treating every byte of the layer as hostile.
//
// A layer may name "../x" or "/etc/passwd", create "evil -> /" and then write
// "evil/file", hard-link "/etc/shadow", or whiteout "../.wh.x". Apply refuses
// all of these with an errdefs.ErrInvalidArgument error that names the tar
// entry: every entry name must be relative and free of "..", and every
// directory on the way to it is opened beneath the root with
// RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS (see internal/linux/pathrs), so a
// symlink, whether an earlier layer or this one made it, is never followed
// while applying. Symlinks are created as they are; they only matter when the
// container later resolves them, inside its own root.
//
// Worked example — applying a compressed layer blob onto an empty snapshot:
//
//	rc, err := archive.Decompress(blob) // gzip, zstd or plain, by magic
//	if err != nil { ... }
//	defer rc.Close()
//	n, err := archive.Apply(ctx, snapshotDir, rc, archive.ApplyOptions{
//		OverlayWhiteouts: true, // the snapshot is an overlayfs upper dir
//		AllowDevices:     true, // we run as root and trust mknod here
//	})
//	if err != nil { ... } // discard the snapshot: it is half applied
//
// Whiteouts follow the OCI image spec: ".wh.<name>" deletes <name> from the
// lower layers and ".wh..wh..opq" makes its directory opaque. Applied to a
// plain directory (the native snapshotter, or a flattened rootfs), they are
// carried out directly; with OverlayWhiteouts they become overlayfs whiteouts
// (a 0:0 character device, and the trusted.overlay.opaque=y xattr).
package archive
