// Package registry pulls images from and pushes them to registries that
// speak the OCI distribution spec: it resolves a reference to a descriptor,
// picks a platform's manifest from an index, streams blobs (verifying every
// size and digest on the way), pushes what the content store holds, and
// logs in and out.
//
// go-containerregistry's transport does the protocol work (ping, basic and
// token auth, retries, the user agent); this package issues the requests
// itself so that it sees each response's status, headers and bytes:
//
//	regs, err := registry.LoadRegistries("")       // mirrors, insecure hosts
//	c := registry.New(registry.Options{Registries: regs, AuthFile: authfile})
//	ref, _ := reference.Parse("localhost:5000/busybox")
//	img, err := c.Manifest(ctx, ref, "")          // linux/<host arch>
//	for _, l := range img.Manifest.Layers {
//		err = c.Ingest(ctx, store, ref, l) // into internal/content, resumable
//	}
//	err = c.Push(ctx, store, other, img.Target, progress) // index or manifest, and all below
//
// A Client authenticates once per repository, action and credentials, and
// reuses that for a minute: the manifest, config and layers of a pull share
// one ping of /v2/ and one token (before, each blob paid its own: for an
// insecure registry a failed TLS attempt, the plain-http ping, and with token
// auth a trip to the token server). The credentials are looked up at every
// request, so a login or logout counts at once; a 401/403 drops the cached
// authentication.
//
// Credentials come from internal/credentials (--authfile, podman's
// auth.json, docker's config.json, credential helpers); Client.Login checks
// them against the registry before storing them, Logout forgets them.
//
// Pulls try the mirrors of the matching registries.toml entry first and go
// on to the next mirror, then the registry, when one has not got the content
// (404) or cannot be reached (network errors, 5xx after retries). A mirror
// that sends bytes that do not match their digest fails the pull: that is
// tampering or corruption, not absence. Pushes go to the registry itself.
//
// Errors name the reference or digest and carry an errdefs class: NotFound
// for 404, Unavailable for 5xx and network failures (after retries),
// FailedPrecondition for 401/403, InvalidArgument for bad or ambiguous
// documents and digest or size mismatches.
package registry
