package cgroups

import (
	"fmt"
	"strings"

	"github.com/opencontainers/cgroups"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-project/berth/internal/errdefs"
)

// Set writes the resources and the device allow-list to the container's
// cgroups. It applies the complete set each time (for an update, pass the
// merged resources, as runc update does): the device rules are replaced by
// r.Devices plus the defaults. A malformed value is an InvalidArgument error
// and a setting this host cannot honour is a FailedPrecondition error; both
// are found before anything is written and name the setting.
func (m *Manager) Set(r *specs.LinuxResources) error {
	res, ignored, err := toResources(r)
	if err != nil {
		return err
	}
	if err := validateCpuset(res); err != nil {
		return err
	}
	if m.rootless {
		m.skipUnjoined(res)
	}
	if err := m.checkSupported(res); err != nil {
		return err
	}
	for _, w := range ignored {
		m.warn(w)
	}
	if m.mode == Unified {
		m.warnV1Only(res)
		if m.unjoined {
			return nil
		}
	}
	if err := m.lib.Set(res); err != nil {
		return fmt.Errorf("set resources of cgroup %s: %w", m.describe(), err)
	}
	return nil
}

// v1Needs lists, per v1 controller, the OCI setting that needs it when the
// resources ask for it.
func v1Needs(r *cgroups.Resources) map[string]string {
	need := map[string]string{}
	if r.Memory != 0 || r.MemoryReservation != 0 || r.MemorySwap != 0 || r.MemorySwappiness != nil || r.OomKillDisable {
		need["memory"] = "linux.resources.memory"
	}
	if r.CpuShares != 0 || r.CpuQuota != 0 || r.CpuPeriod != 0 || r.CpuRtRuntime != 0 || r.CpuRtPeriod != 0 || r.CPUIdle != nil || r.CpuBurst != nil {
		need["cpu"] = "linux.resources.cpu"
	}
	if r.CpusetCpus != "" || r.CpusetMems != "" {
		need["cpuset"] = "linux.resources.cpu.cpus/mems"
	}
	if r.PidsLimit != nil {
		need["pids"] = "linux.resources.pids"
	}
	if r.BlkioWeight != 0 || r.BlkioLeafWeight != 0 || len(r.BlkioWeightDevice) > 0 ||
		len(r.BlkioThrottleReadBpsDevice) > 0 || len(r.BlkioThrottleWriteBpsDevice) > 0 ||
		len(r.BlkioThrottleReadIOPSDevice) > 0 || len(r.BlkioThrottleWriteIOPSDevice) > 0 {
		need["blkio"] = "linux.resources.blockIO"
	}
	if len(r.HugetlbLimit) > 0 {
		need["hugetlb"] = "linux.resources.hugepageLimits"
	}
	if r.NetClsClassid != 0 {
		need["net_cls"] = "linux.resources.network.classID"
	}
	if len(r.NetPrioIfpriomap) > 0 {
		need["net_prio"] = "linux.resources.network.priorities"
	}
	if len(r.Rdma) > 0 {
		need["rdma"] = "linux.resources.rdma"
	}
	return need
}

// checkSupported fails when the resources ask for a v1 controller that the
// container has no cgroup for, or for the unified map on a v1 host.
func (m *Manager) checkSupported(r *cgroups.Resources) error {
	if m.mode == Unified {
		return nil
	}
	if len(r.Unified) > 0 {
		return fmt.Errorf("linux.resources.unified: cannot be used on a cgroup v1 (%s) host: %w", m.mode, errdefs.ErrFailedPrecondition)
	}
	for _, ctrl := range []string{"memory", "cpu", "cpuset", "pids", "blkio", "hugetlb", "net_cls", "net_prio", "rdma"} {
		setting, ok := v1Needs(r)[ctrl]
		if !ok || m.Path(ctrl) != "" {
			continue
		}
		return fmt.Errorf("%s: the container has no %s cgroup (the controller is not mounted in cgroup v1 on this host): %w", setting, ctrl, errdefs.ErrFailedPrecondition)
	}
	return nil
}

// warnV1Only records the settings that cgroup v2 has no equivalent for and the
// library skips, as runc does.
func (m *Manager) warnV1Only(r *cgroups.Resources) {
	ignored := map[string]bool{
		"linux.resources.memory.swappiness":                  r.MemorySwappiness != nil,
		"linux.resources.memory.disableOOMKiller":            r.OomKillDisable,
		"linux.resources.cpu.realtimeRuntime/realtimePeriod": r.CpuRtRuntime != 0 || r.CpuRtPeriod != 0,
		"linux.resources.blockIO.leafWeight":                 r.BlkioLeafWeight != 0,
		"linux.resources.network":                            r.NetClsClassid != 0 || len(r.NetPrioIfpriomap) > 0,
	}
	for _, s := range []string{
		"linux.resources.memory.swappiness", "linux.resources.memory.disableOOMKiller",
		"linux.resources.cpu.realtimeRuntime/realtimePeriod", "linux.resources.blockIO.leafWeight",
		"linux.resources.network",
	} {
		if ignored[s] {
			m.warn(s + " is ignored on a cgroup v2 host")
		}
	}
}

// validateCpuset checks the cpu and memory-node lists ("0-3,5") so that a
// malformed one fails before anything is written.
func validateCpuset(r *cgroups.Resources) error {
	for _, l := range []struct{ name, val string }{
		{"linux.resources.cpu.cpus", r.CpusetCpus},
		{"linux.resources.cpu.mems", r.CpusetMems},
	} {
		if l.val == "" {
			continue
		}
		if err := checkList(l.val); err != nil {
			return fmt.Errorf("%s %q: %w: %w", l.name, l.val, err, errdefs.ErrInvalidArgument)
		}
	}
	return nil
}

// checkList rejects what cannot be a kernel cpu/node list ("0-3,5",
// "0-7:2/4", "N"); the kernel checks the rest when the value is written.
func checkList(s string) error {
	if strings.TrimSpace(s) == "" || strings.Trim(s, "0123456789,-:/N \n") != "" {
		return fmt.Errorf("not a list of numbers and ranges like \"0-3,5\"")
	}
	return nil
}
