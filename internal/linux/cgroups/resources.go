package cgroups

import (
	"maps"

	"github.com/opencontainers/cgroups"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// toResources converts the OCI resources into the library's form the way runc
// 1.1.5 does (libcontainer/specconv.CreateCgroupConfig). A nil r means no
// limits but still the default device allow-list. The second result lists the
// settings that are accepted but ignored.
func toResources(r *specs.LinuxResources) (*cgroups.Resources, []string, error) {
	if r == nil {
		r = &specs.LinuxResources{}
	}
	var ignored []string
	devs, err := deviceRules(r.Devices)
	if err != nil {
		return nil, nil, err
	}
	c := &cgroups.Resources{Devices: devs}
	if m := r.Memory; m != nil {
		setIf(&c.Memory, m.Limit)
		setIf(&c.MemoryReservation, m.Reservation)
		setIf(&c.MemorySwap, m.Swap)
		if m.Kernel != nil || m.KernelTCP != nil {
			ignored = append(ignored, "linux.resources.memory.kernel and kernelTCP are ignored (kernel memory accounting is deprecated)")
		}
		c.MemorySwappiness = m.Swappiness
		setIf(&c.OomKillDisable, m.DisableOOMKiller)
		setIf(&c.MemoryCheckBeforeUpdate, m.CheckBeforeUpdate)
	}
	if cpu := r.CPU; cpu != nil {
		if cpu.Shares != nil {
			c.CpuShares = *cpu.Shares
			c.CpuWeight = cgroups.ConvertCPUSharesToCgroupV2Value(c.CpuShares)
		}
		setIf(&c.CpuQuota, cpu.Quota)
		c.CpuBurst = cpu.Burst
		setIf(&c.CpuPeriod, cpu.Period)
		setIf(&c.CpuRtRuntime, cpu.RealtimeRuntime)
		setIf(&c.CpuRtPeriod, cpu.RealtimePeriod)
		c.CpusetCpus = cpu.Cpus
		c.CpusetMems = cpu.Mems
		c.CPUIdle = cpu.Idle
	}
	// runc 1.1.5 treats a pids limit of 0 as "not set"; the library would
	// write 1.
	if p := r.Pids; p != nil && p.Limit != nil && *p.Limit != 0 {
		c.PidsLimit = p.Limit
	}
	if b := r.BlockIO; b != nil {
		blockIO(c, b)
	}
	for _, l := range r.HugepageLimits {
		c.HugetlbLimit = append(c.HugetlbLimit, &cgroups.HugepageLimit{Pagesize: l.Pagesize, Limit: l.Limit})
	}
	if n := r.Network; n != nil {
		setIf(&c.NetClsClassid, n.ClassID)
		for _, p := range n.Priorities {
			c.NetPrioIfpriomap = append(c.NetPrioIfpriomap, &cgroups.IfPrioMap{Interface: p.Name, Priority: int64(p.Priority)})
		}
	}
	if len(r.Rdma) > 0 {
		c.Rdma = make(map[string]cgroups.LinuxRdma, len(r.Rdma))
		for k, v := range r.Rdma {
			c.Rdma[k] = cgroups.LinuxRdma{HcaHandles: v.HcaHandles, HcaObjects: v.HcaObjects}
		}
	}
	if len(r.Unified) > 0 {
		c.Unified = maps.Clone(r.Unified)
	}
	return c, ignored, nil
}

func blockIO(c *cgroups.Resources, b *specs.LinuxBlockIO) {
	setIf(&c.BlkioWeight, b.Weight)
	setIf(&c.BlkioLeafWeight, b.LeafWeight)
	for _, wd := range b.WeightDevice {
		var w, lw uint16
		setIf(&w, wd.Weight)
		setIf(&lw, wd.LeafWeight)
		c.BlkioWeightDevice = append(c.BlkioWeightDevice, cgroups.NewWeightDevice(wd.Major, wd.Minor, w, lw))
	}
	throttle := func(in []specs.LinuxThrottleDevice) []*cgroups.ThrottleDevice {
		var out []*cgroups.ThrottleDevice
		for _, t := range in {
			out = append(out, cgroups.NewThrottleDevice(t.Major, t.Minor, t.Rate))
		}
		return out
	}
	c.BlkioThrottleReadBpsDevice = throttle(b.ThrottleReadBpsDevice)
	c.BlkioThrottleWriteBpsDevice = throttle(b.ThrottleWriteBpsDevice)
	c.BlkioThrottleReadIOPSDevice = throttle(b.ThrottleReadIOPSDevice)
	c.BlkioThrottleWriteIOPSDevice = throttle(b.ThrottleWriteIOPSDevice)
}

// setIf stores *p in dst when p is not nil.
func setIf[T any](dst *T, p *T) {
	if p != nil {
		*dst = *p
	}
}
