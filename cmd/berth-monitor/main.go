// Command berth-monitor is the per-container monitor: `berth-monitor
// <run-dir>` reads <run-dir>/monitor.json, has the OCI runtime create and
// start the container, reports on the sync pipe (fd 3) and then stays,
// as the parent and subreaper of the container's process, until the
// container is done. See internal/monitor for the whole contract.
//
// It is built small on purpose (no cobra, no registry code; CGO_ENABLED=0,
// -ldflags "-s -w"): one runs per container.
package main

import (
	"os"

	"github.com/berth-project/berth/internal/monitor"
)

func main() {
	os.Exit(monitor.Main(os.Args))
}
