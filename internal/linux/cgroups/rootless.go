package cgroups

import (
	"fmt"
	"slices"

	"github.com/opencontainers/cgroups"
)

// skipUnjoined drops the settings of a rootless container for the cgroups it
// could not create or join (no delegation to the user: always so on a v1
// host), each with a warning: they cannot be applied, and failing would make
// any spec with limits unusable without privileges.
func (m *Manager) skipUnjoined(r *cgroups.Resources) {
	need := v1Needs(r)
	ctrls := make([]string, 0, len(need))
	for ctrl := range need {
		ctrls = append(ctrls, ctrl)
	}
	slices.Sort(ctrls)
	for _, ctrl := range ctrls {
		if !m.unjoined && (m.mode == Unified || m.Path(ctrl) != "") {
			continue
		}
		m.warn(fmt.Sprintf("%s is not applied: rootless, the container has no %s cgroup of its own (not delegated to this user, or not mounted)", need[ctrl], ctrl))
		clearController(r, ctrl)
	}
	if m.unjoined && len(r.Unified) > 0 {
		m.warn("linux.resources.unified is not applied: rootless, the container has no cgroup of its own (not delegated to this user)")
		r.Unified = nil
	}
}

// clearController zeroes the settings that v1Needs maps to ctrl.
func clearController(r *cgroups.Resources, ctrl string) {
	switch ctrl {
	case "memory":
		r.Memory, r.MemoryReservation, r.MemorySwap, r.MemorySwappiness, r.OomKillDisable = 0, 0, 0, nil, false
	case "cpu":
		r.CpuShares, r.CpuWeight, r.CpuQuota, r.CpuPeriod, r.CpuRtRuntime, r.CpuRtPeriod, r.CPUIdle, r.CpuBurst = 0, 0, 0, 0, 0, 0, nil, nil
	case "cpuset":
		r.CpusetCpus, r.CpusetMems = "", ""
	case "pids":
		r.PidsLimit = nil
	case "blkio":
		r.BlkioWeight, r.BlkioLeafWeight = 0, 0
		r.BlkioWeightDevice = nil
		r.BlkioThrottleReadBpsDevice, r.BlkioThrottleWriteBpsDevice = nil, nil
		r.BlkioThrottleReadIOPSDevice, r.BlkioThrottleWriteIOPSDevice = nil, nil
	case "hugetlb":
		r.HugetlbLimit = nil
	case "net_cls":
		r.NetClsClassid = 0
	case "net_prio":
		r.NetPrioIfpriomap = nil
	case "rdma":
		r.Rdma = nil
	}
}
