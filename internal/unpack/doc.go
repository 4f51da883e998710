// Package unpack turns an image's layers (blobs in internal/content) into
// committed snapshots keyed by chain ID, fetching the blobs it needs in
// parallel and applying each layer as soon as it and the ones below it are
// in place.
//
// Worked example — a pull:
//
//	top, err := unpack.Unpack(ctx, cs, sn, manifest.Layers, config.RootFS.DiffIDs, unpack.Options{
//		Fetch: func(ctx context.Context, d ocispec.Descriptor) error {
//			return reg.Ingest(ctx, ref, d, cs) // download into the store
//		},
//		LockDir:  "/run/berth/unpack/overlay",
//		Progress: bar.Update,
//	})
//	// a container on top of the image:
//	mounts, err := sn.Prepare(ctx, "ctr-"+id, top.String(), nil)
//
// # What Unpack does per layer
//
// It first looks for the highest chain ID that exists; layers at or below
// it are neither fetched nor read. For each layer above it, in order:
//
//  1. take the lock <LockDir>/sha256-<chain ID hex>.lock (an flock: other goroutines and
//     processes unpacking the same layer wait, then find it committed);
//  2. sn.Prepare("extract-<random>", parent chain ID), labelled with the
//     lock's path (LabelLock);
//  3. stream the blob from the content store through its digest, the
//     decompressor (archive.Decompress: gzip, zstd or plain) and the diffID
//     hash into archive.Apply;
//  4. check the blob's digest and size (the store verified them at ingest;
//     this catches a blob that rotted on disk) and the diffID, then
//     sn.Commit(chainID). Any failure removes the active snapshot.
//
// # Where a layer is applied
//
// A single bind mount (the native snapshotter, or overlay's first layer) is
// applied to its directory directly, with plain whiteouts. For a layer on
// top of others the overlay snapshotter returns an overlay mount; Unpack
// mounts it detached (mount.Detached: the mount exists only while its
// descriptor does, so a process killed mid-apply leaves no mount behind)
// and applies the layer to the merged view with plain whiteouts: overlayfs
// turns the deletions into whiteouts and copies the lower directories up.
//
// The faster-looking alternative, applying into the upper directory with
// overlay whiteouts, is wrong for real images: a tar entry whose parent
// directories exist only in a lower layer gets fresh directories in the
// upper one (losing the lower directory's mode and owner), and an entry
// written through a lower symlinked directory ("lib -> usr/lib", as every
// usr-merged distribution has) creates a real "lib" directory that hides
// the symlink. Measured on this machine's ext4 (BenchmarkUnpack,
// 2 cores), the merged view costs no more:
//
//	MEASUREMENTS
//
// # Crashes
//
// A process killed mid-layer leaves its active "extract-…" snapshot (and no
// mount). Cleanup removes those whose lock nobody holds; a live unpack in
// another process holds its lock from before Prepare until after Commit or
// Remove, so Cleanup never takes its snapshot away.
package unpack
