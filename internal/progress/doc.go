// Package progress shows the progress of an image pull or push the way
// `docker pull` and `docker push` do: a header, then one line per layer,
// named by the first 12 hex digits of its digest, with its state, a bar,
// the bytes done of the total and the speed.
//
//	latest: Pulling from library/busybox
//	a1b2c3d4e5f6: Pull complete
//	0f1e2d3c4b5a: Downloading [=========>                     ]  12.3MB/45.6MB  8.1MB/s
//	9a8b7c6d5e4f: Waiting
//
// On a terminal the layer lines are redrawn in place (ANSI cursor-up and
// erase-line), at most once per Options.Interval, and drawn a last time by
// Close. Anywhere else (a pipe, a file, CI logs) each layer's changes of
// state are printed once, one line each, and the states that carry a bar
// (Downloading, Extracting, Pushing) are left out, as docker does. In quiet
// mode nothing is printed at all.
//
// The package knows nothing of registries or unpacking: callers feed it an
// id (a digest string; it is shortened for display), a Status and byte
// counts. A pull looks like this:
//
//	d := progress.New(os.Stdout, progress.Options{Quiet: quiet})
//	d.Printf("%s: Pulling from %s", tag, path)
//	for _, l := range layers { // each in its own goroutine, if you like
//		id := l.Digest.String()
//		d.Update(id, progress.Waiting, 0, l.Size)
//		rc, _ := fetch(l)
//		r := d.Reader(rc, id, progress.Downloading, 0, l.Size) // counts as it is read
//		ingest(r)
//		d.Update(id, progress.DownloadComplete, l.Size, l.Size)
//		// the unpacker reports phase, current and total the same way:
//		d.Update(id, progress.Extracting, n, l.Size)
//		d.Update(id, progress.PullComplete, 0, 0)
//	}
//	d.Close()
//	d.Printf("Digest: %s", digest) // after Close: below the final block
//	d.Printf("Status: Downloaded newer image for %s", name)
//
// Display is safe for concurrent use by the goroutines of a parallel pull.
package progress
