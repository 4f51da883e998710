package engine

import (
	"fmt"
	"math/rand/v2"
	"regexp"

	"github.com/berth-project/berth/internal/errdefs"
)

// Words for container names, docker-style: "<adjective>_<noun>".
var (
	nameAdjectives = []string{
		"amber", "brave", "calm", "clever", "crisp", "daring", "eager", "fond", "gentle", "happy",
		"hardy", "jolly", "keen", "kind", "lively", "lucid", "merry", "nimble", "noble", "plucky",
		"proud", "quiet", "rapid", "serene", "sharp", "steady", "sunny", "swift", "tidy", "witty",
	}
	nameNouns = []string{
		"anchor", "barge", "beacon", "buoy", "cable", "canal", "cargo", "compass", "current", "dock",
		"ferry", "harbor", "hull", "jetty", "keel", "lighthouse", "mast", "mooring", "oar", "pier",
		"quay", "raft", "rudder", "sail", "schooner", "skiff", "tide", "tug", "wharf", "yawl",
	}
)

// randomName returns a docker-style name; attempt > 0 appends a number, as
// docker does after a collision.
func randomName(attempt int) string {
	n := nameAdjectives[rand.IntN(len(nameAdjectives))] + "_" + nameNouns[rand.IntN(len(nameNouns))]
	if attempt > 0 {
		n = fmt.Sprintf("%s%d", n, rand.IntN(10))
	}
	return n
}

// validContainerName is docker's rule for container names.
var validContainerName = regexp.MustCompile(`^/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$`)

func checkContainerName(name string) error {
	if !validContainerName.MatchString(name) {
		return fmt.Errorf("invalid container name %q: only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed: %w", name, errdefs.ErrInvalidArgument)
	}
	return nil
}
