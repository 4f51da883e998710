// Package content is Berth's content-addressed blob store: every blob of an
// image (index, manifest, config, layer) is kept once, named by its sha256,
// and is known to be whole and correct before anyone can see it.
//
// # Layout
//
//	<root>/blobs/sha256/<hex>    committed blobs, read-only, never partial
//	<root>/ingest/<key>/         a write in progress (key = sha256 of the ref)
//	<root>/ingest/<key>.lock     flock held by that write's one writer
//	<root>/roots/<key>.json      GC roots: a name and the digests it keeps
//
// # Ingesting a blob
//
// A blob enters the store through a Writer, named by a ref that stands for
// the download (for example "layer-" + digest). The Writer hashes while the
// bytes stream in; Commit checks size and digest, fsyncs, and renames the
// data into blobs/ in one step, so readers see the whole blob or nothing:
//
//	s, err := content.Open("/var/lib/berth/content")
//	w, err := s.Writer("layer-"+d.String(), d, size) // waits if another process holds the ref
//	if errdefs.IsAlreadyExists(err) {
//		return nil // someone else fetched it meanwhile
//	}
//	body := registryGet(d, w.Offset())              // non-zero when resuming an interrupted pull
//	if _, err := io.Copy(w, body); err != nil {
//		return errors.Join(err, w.Close())          // keep the partial ingest; the next Writer resumes it
//	}
//	return w.Commit()                               // ErrInvalidArgument on a mismatch, and nothing is left
//
// Store.Ingest wraps that sequence and treats "already there" as success.
//
// # Concurrency
//
// One ref has one writer at a time, across goroutines and processes: a second
// Writer for the ref waits on the flock (TryWriter returns ErrUnavailable
// instead). When it gets the lock, it first looks for the committed blob, so
// several pulls of the same image make one download, and the others share it.
//
// # Garbage collection
//
// A root names the blobs an image needs (AddRoot("image/docker.io/library/busybox:latest", index)).
// GC keeps every blob reachable from some root, following children through
// a callback so that the store stays ignorant of manifests, and removes the
// rest along with stale ingests. RemoveRoot drops one reference; the blobs go
// when no root reaches them.
package content
