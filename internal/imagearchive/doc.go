// Package imagearchive moves images between the content store
// (internal/content) and the tar archives of `berth save`, `berth load` and
// `berth import`.
//
// # Formats
//
// Save writes one of two formats; Load reads either, plain or compressed
// (gzip, zstd), telling them apart by their members:
//
//	docker-archive   manifest.json   [{"Config": "blobs/sha256/<config>",
//	                                   "RepoTags": ["docker.io/library/busybox:latest"],
//	                                   "Layers": ["blobs/sha256/<diffID>", …]}]
//	                 repositories    {"docker.io/library/busybox": {"latest": "<top diffID>"}}
//	                 blobs/sha256/…  the config and the layers, uncompressed
//
//	oci-archive      oci-layout      {"imageLayoutVersion": "1.0.0"}
//	                 index.json      one entry per name, annotated with
//	                                 io.containerd.image.name (the full name) and
//	                                 org.opencontainers.image.ref.name (its tag)
//	                 blobs/sha256/…  every blob the entries reach, as stored
//
// A docker-archive names its files blobs/sha256/<hex> as docker 25 and later
// do (podman writes <hex>.tar and <hex>.json; `docker load` and `podman load`
// follow manifest.json to any path, so both read either). Its layers are
// uncompressed and named by their diffID, as `docker save` writes them, and a
// multi-platform image contributes the host platform's manifest only.
// RepoTags hold full names: docker reads them as it reads its own short
// ones, and podman would put a short one under localhost/. An
// oci-archive keeps the stored documents byte for byte: manifests, indexes
// and compressed layers, so digests survive a save and load.
//
// Load turns a docker-archive into an OCI manifest (config
// application/vnd.oci.image.config.v1+json, layers stored as they came:
// application/vnd.oci.image.layer.v1.tar, or +gzip/+zstd) whose bytes depend
// on the archive's content only, so loading twice gives the same digests.
// When an archive holds both manifest.json and oci-layout (docker 25 writes
// both), manifest.json is read, as `docker load` does.
//
// # Untrusted archives
//
// Load reads the archive once, in any member order (docker writes
// manifest.json last). Every regular member is streamed into its own content
// ingest as it arrives, hashed on the way; members that look like JSON
// documents (at most MaxDocumentSize each, MaxDocumentsSize in all) are also
// kept in memory to be parsed. Only when the whole archive has been read and
// resolved, every digest, size and diffID checked, are the members that the
// images need committed to the store, and the others discarded: a truncated
// or forged archive aborts every ingest and leaves the store as it was. No
// temporary files are made outside the store's own ingest area.
//
// Member names must be relative and free of "..". A symlink or hard link
// member counts only as another name for a regular member of the same
// archive (old `docker save` links identical layers that way); it is resolved
// by name within the archive, never on a file system, and a link that leaves
// the archive or leads nowhere makes a reference to it fail.
//
// # Example
//
//	images, err := imagearchive.Load(ctx, f, store)
//	for _, img := range images {
//		// img.Name is "docker.io/library/busybox:latest" or "" when untagged;
//		// img.Target is its manifest (or index) in the store.
//		store.AddRoot("image/"+img.Name, img.Target.Digest)
//	}
//	err = imagearchive.Save(ctx, os.Stdout, store, images, imagearchive.DockerArchive)
//
// Import makes a one-layer image from a root file system tarball, as
// `docker import` does, applying Dockerfile-like changes (see ImportOptions).
package imagearchive
