// Package registry fetches images from registries that speak the OCI
// distribution spec: it resolves a reference to a descriptor, picks a
// platform's manifest from an index, and streams blobs, verifying every size
// and digest on the way.
//
// go-containerregistry's transport does the protocol work (ping, basic and
// token auth, retries, the user agent); this package issues the requests
// itself so that it sees each response's status, headers and bytes:
//
//	c := registry.New(registry.Options{UserAgent: "berth/0.1"})
//	ref, _ := reference.Parse("localhost:5000/busybox")
//	img, err := c.Manifest(ctx, ref, "")          // linux/<host arch>
//	for _, l := range img.Manifest.Layers {
//		err = c.Ingest(ctx, store, ref, l) // into internal/content, resumable
//	}
//
// Errors name the reference or digest and carry an errdefs class: NotFound
// for 404, Unavailable for 5xx and network failures (after retries),
// FailedPrecondition for 401/403, InvalidArgument for bad or ambiguous
// documents and digest or size mismatches.
package registry
