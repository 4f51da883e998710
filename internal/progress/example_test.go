package progress_test

import (
	"io"
	"os"
	"strings"

	"github.com/berth-project/berth/internal/progress"
)

// A pull written to a pipe or a log: one line per change of a layer's
// state, no bars. On a terminal the same calls redraw the layer lines in
// place.
func Example() {
	d := progress.New(os.Stdout, progress.Options{})
	d.Printf("latest: Pulling from library/busybox")

	layer := "sha256:a1b2c3d4e5f60123456789abcdef0123456789abcdef0123456789abcdef"
	blob := strings.NewReader(strings.Repeat("x", 1<<20))
	d.Update(layer, progress.PullingFSLayer, 0, blob.Size())
	r := d.Reader(blob, layer, progress.Downloading, 0, blob.Size())
	_, _ = io.Copy(io.Discard, r) // ingest into the content store here
	d.Update(layer, progress.VerifyingChecksum, blob.Size(), blob.Size())
	d.Update(layer, progress.DownloadComplete, blob.Size(), blob.Size())
	d.Update(layer, progress.Extracting, 0, blob.Size()) // from the unpacker's events
	d.Update(layer, progress.PullComplete, 0, 0)
	d.Close()

	d.Printf("Status: Downloaded newer image for busybox:latest")
	// Output:
	// latest: Pulling from library/busybox
	// a1b2c3d4e5f6: Pulling fs layer
	// a1b2c3d4e5f6: Verifying Checksum
	// a1b2c3d4e5f6: Download complete
	// a1b2c3d4e5f6: Pull complete
	// Status: Downloaded newer image for busybox:latest
}
