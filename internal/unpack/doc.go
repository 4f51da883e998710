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
// the symlink. Measured here it costs no more (BenchmarkUnpack with
// BERTH_UNPACK_BENCH_MB=200: two gzip layers, 80 MB compressed, 200 MB and
// 17,066 files of 12 kB; the second layer rewrites, deletes and adds files;
// 2 cores, ext4 without a journal; each run in its own process after
// `sync; sleep 35`; two runs each, seconds):
//
//	read + gunzip + both sha256 only         0.8   1.9
//	archive.Apply to a plain directory       11.7  5.5
//	Unpack, native snapshotter               14.4  22.9  (layer 2 copies layer 1 first)
//	Unpack, overlay, merged view (chosen)    13.9  11.7  (10.2 / 10.6 s of kernel CPU)
//	overlay, straight into upperdir          11.4  16.2  (11.0 / 9.7 s of kernel CPU)
//
// The disk's noise (±40% between runs) is larger than any difference
// between the two overlay ways. Where the time goes (perf, merged view):
// creating files is ~80% of Apply's CPU, nearly all of it in ext4's inode
// allocator (ext4_create → find_inode_bit → recently_deleted: without a
// journal, ext4 skips every free inode freed in the last 30 s or sitting in
// a dirty inode-table block, scanning the bitmap, so a create costs
// 0.4–1.3 ms after heavy churn instead of ~40 µs); gunzip ~6%, sha256 ~2%,
// overlayfs's own lookups and copy-ups ~1%, the snapshotters' metadata
// and fsyncs < 0.5%. A layer that whites out a big lower directory costs
// more in the merged view (one whiteout per file instead of one for the
// directory), and so does an opaque directory over a big lower one.
//
// # Crashes
//
// A process killed mid-layer leaves its active "extract-…" snapshot (and no
// mount). Cleanup removes those whose lock nobody holds; a live unpack in
// another process holds its lock from before Prepare until after Commit or
// Remove, so Cleanup never takes its snapshot away.
package unpack
