// Package archive applies OCI and Docker image layers (tar streams) to a
// directory, treating every byte of the layer as hostile.
//
// A layer may name "../x" or "/etc/passwd", create "evil -> /" and then write
// "evil/file", hard-link "/etc/shadow", or whiteout "../.wh.x". Nothing it
// does reaches outside the root:
//
//   - every entry name (and hard link target) must be relative and free of
//     "..", or the entry is refused with an errdefs.ErrInvalidArgument error
//     that names it;
//   - the directories on the way to an entry are resolved inside the root,
//     as if it were "/" (openat2's RESOLVE_IN_ROOT semantics): a symlink
//     along the way, whether an earlier layer or this one made it, is
//     followed, but an absolute target starts again at the root and ".."
//     stops there. So "lib/x86_64-linux-gnu/libc.so" lands in
//     "usr/lib/x86_64-linux-gnu" of a usr-merged lower layer
//     ("lib -> usr/lib"), as with docker and containerd, and "evil/file"
//     after "evil -> /" lands in "file" of the root. Missing directories are
//     made, also where a dangling symlink points (inside the root);
//   - the last component of an entry is never followed: it is replaced (a
//     directory entry over a symlink makes a directory there);
//   - hard links must name a regular file (not a symlink), device nodes
//     need AllowDevices, trusted.overlay.* and user.overlay.* xattrs are
//     refused, and the layer's size is bounded.
//
// Each component is opened in the handle of its parent (openat2 with
// RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS when the name has no symlink, the
// common case in one call; a walk of O_NOFOLLOW handles otherwise), so no
// path string is ever resolved twice. Symlinks are created as they are.
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
