package engine

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"strings"

	"github.com/berth-project/berth/internal/spec"
)

// hostCapabilities returns, by name, the capabilities in berth's own
// bounding set (CapBnd of /proc/self/status): all that a container can be
// given here, hence what --privileged and --cap-add ALL mean, as in docker
// and podman. A sandbox that drops one (CAP_SYS_RESOURCE, say) would make
// every privileged container fail to start if they asked for it. Nil (every
// capability) when the set cannot be read.
func hostCapabilities() []string {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return nil
	}
	s := bufio.NewScanner(bytes.NewReader(data))
	for s.Scan() {
		v, ok := strings.CutPrefix(s.Text(), "CapBnd:")
		if !ok {
			continue
		}
		mask, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
		if err != nil {
			return nil
		}
		out := []string{}
		for i, name := range spec.AllCapabilities {
			if mask&(1<<i) != 0 {
				out = append(out, name)
			}
		}
		return out
	}
	return nil
}
