package engine

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-project/berth/internal/linux/cgroups"
)

// rootlessSpec adapts a container's spec to a rootless engine (Config.Rootless:
// root of an unprivileged user's user namespace). The OCI runtime, finding
// itself in a user namespace, acts as rootless: it skips the cgroup
// settings it may not apply, with a warning, and binds device nodes from
// the host. On a cgroup v1 or hybrid host no cgroup is the container's own
// (v1 delegates nothing to users), so there is nothing to show at
// /sys/fs/cgroup: the mount goes, as in `berth-runtime spec --rootless`.
func rootlessSpec(s *specs.Spec) {
	if cgroups.HostMode() == cgroups.Unified {
		return
	}
	mounts := s.Mounts[:0]
	for _, m := range s.Mounts {
		if m.Destination == "/sys/fs/cgroup" {
			continue
		}
		mounts = append(mounts, m)
	}
	s.Mounts = mounts
}
