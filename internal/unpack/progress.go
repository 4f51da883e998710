package unpack

import (
	"sync"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Phase is where one layer is in an Unpack.
type Phase int

// The phases of a layer, in the order a layer goes through them. A layer
// whose snapshot exists goes straight to AlreadyExists.
const (
	Waiting       Phase = iota // queued for its fetch
	Downloading                // the Fetcher is bringing its blob into the content store
	Extracting                 // its blob is being applied (Current/Total: compressed bytes)
	Verifying                  // checking the blob's digest and the diffID, committing
	Done                       // its snapshot is committed
	AlreadyExists              // its snapshot was there already: nothing to do
)

var phaseNames = [...]string{"waiting", "downloading", "extracting", "verifying", "done", "already exists"}

func (p Phase) String() string {
	if p < 0 || int(p) >= len(phaseNames) {
		return "unknown"
	}
	return phaseNames[p]
}

// Event reports the progress of one layer. Err is set, on the phase that
// failed, when the layer fails.
type Event struct {
	Layer          ocispec.Descriptor
	Phase          Phase
	Current, Total int64
	Err            error
}

// Progress receives events. Unpack never calls it concurrently (calls are
// serialised), but from several goroutines; it must not block for long.
type Progress func(Event)

// reporter serialises the calls to a Progress, which may be nil.
type reporter struct {
	mu sync.Mutex
	fn Progress
}

func (r *reporter) report(e Event) {
	if r.fn == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fn(e)
}

// progressInterval bounds how often Extracting events are sent per layer.
const progressInterval = 100 * time.Millisecond
