package cgroups

import (
	"fmt"

	"github.com/opencontainers/cgroups"
)

// Stats is the "data" object of `runc events --stats`: a copy of runc 1.1.5's
// types.Stats (types/events.go) with the same JSON names and omitempty
// choices, so that tools parsing runc's output parse ours.
type Stats struct {
	CPU               CPU                 `json:"cpu"`
	CPUSet            CPUSet              `json:"cpuset"`
	Memory            Memory              `json:"memory"`
	Pids              Pids                `json:"pids"`
	Blkio             Blkio               `json:"blkio"`
	Hugetlb           map[string]Hugetlb  `json:"hugetlb"`
	IntelRdt          IntelRdt            `json:"intel_rdt"`
	NetworkInterfaces []*NetworkInterface `json:"network_interfaces"`
}

// Hugetlb is the usage of one huge page size.
type Hugetlb struct {
	Usage   uint64 `json:"usage,omitempty"`
	Max     uint64 `json:"max,omitempty"`
	Failcnt uint64 `json:"failcnt"`
}

// BlkioEntry is one line of a blkio (v1) or io (v2) statistic.
type BlkioEntry struct {
	Major uint64 `json:"major,omitempty"`
	Minor uint64 `json:"minor,omitempty"`
	Op    string `json:"op,omitempty"`
	Value uint64 `json:"value,omitempty"`
}

// Blkio holds the block I/O statistics.
type Blkio struct {
	IoServiceBytesRecursive []BlkioEntry `json:"ioServiceBytesRecursive,omitempty"`
	IoServicedRecursive     []BlkioEntry `json:"ioServicedRecursive,omitempty"`
	IoQueuedRecursive       []BlkioEntry `json:"ioQueueRecursive,omitempty"`
	IoServiceTimeRecursive  []BlkioEntry `json:"ioServiceTimeRecursive,omitempty"`
	IoWaitTimeRecursive     []BlkioEntry `json:"ioWaitTimeRecursive,omitempty"`
	IoMergedRecursive       []BlkioEntry `json:"ioMergedRecursive,omitempty"`
	IoTimeRecursive         []BlkioEntry `json:"ioTimeRecursive,omitempty"`
	SectorsRecursive        []BlkioEntry `json:"sectorsRecursive,omitempty"`
}

// Pids holds the number of tasks and their limit (0: no limit).
type Pids struct {
	Current uint64 `json:"current,omitempty"`
	Limit   uint64 `json:"limit,omitempty"`
}

// Throttling holds the CFS bandwidth throttling counters.
type Throttling struct {
	Periods          uint64 `json:"periods,omitempty"`
	ThrottledPeriods uint64 `json:"throttledPeriods,omitempty"`
	ThrottledTime    uint64 `json:"throttledTime,omitempty"`
}

// CPUUsage holds CPU times in nanoseconds.
type CPUUsage struct {
	Total        uint64   `json:"total,omitempty"`
	Percpu       []uint64 `json:"percpu,omitempty"`
	PercpuKernel []uint64 `json:"percpu_kernel,omitempty"`
	PercpuUser   []uint64 `json:"percpu_user,omitempty"`
	Kernel       uint64   `json:"kernel"`
	User         uint64   `json:"user"`
}

// CPU holds the CPU usage and throttling.
type CPU struct {
	Usage      CPUUsage   `json:"usage,omitempty"`
	Throttling Throttling `json:"throttling,omitempty"`
}

// CPUSet holds the cpuset settings (v1 flags are 0 on v2).
type CPUSet struct {
	CPUs                  []uint16 `json:"cpus,omitempty"`
	CPUExclusive          uint64   `json:"cpu_exclusive"`
	Mems                  []uint16 `json:"mems,omitempty"`
	MemHardwall           uint64   `json:"mem_hardwall"`
	MemExclusive          uint64   `json:"mem_exclusive"`
	MemoryMigrate         uint64   `json:"memory_migrate"`
	MemorySpreadPage      uint64   `json:"memory_spread_page"`
	MemorySpreadSlab      uint64   `json:"memory_spread_slab"`
	MemoryPressure        uint64   `json:"memory_pressure"`
	SchedLoadBalance      uint64   `json:"sched_load_balance"`
	SchedRelaxDomainLevel int64    `json:"sched_relax_domain_level"`
}

// MemoryEntry is one memory counter with its limit, in bytes.
type MemoryEntry struct {
	Limit   uint64 `json:"limit"`
	Usage   uint64 `json:"usage,omitempty"`
	Max     uint64 `json:"max,omitempty"`
	Failcnt uint64 `json:"failcnt"`
}

// Memory holds the memory statistics; Raw is memory.stat.
type Memory struct {
	Cache     uint64            `json:"cache,omitempty"`
	Usage     MemoryEntry       `json:"usage,omitempty"`
	Swap      MemoryEntry       `json:"swap,omitempty"`
	Kernel    MemoryEntry       `json:"kernel,omitempty"`
	KernelTCP MemoryEntry       `json:"kernelTCP,omitempty"`
	Raw       map[string]uint64 `json:"raw,omitempty"`
}

// L3CacheInfo is Intel RDT cache allocation information.
type L3CacheInfo struct {
	CbmMask    string `json:"cbm_mask,omitempty"`
	MinCbmBits uint64 `json:"min_cbm_bits,omitempty"`
	NumClosids uint64 `json:"num_closids,omitempty"`
}

// MemBwInfo is Intel RDT memory bandwidth information.
type MemBwInfo struct {
	BandwidthGran uint64 `json:"bandwidth_gran,omitempty"`
	DelayLinear   uint64 `json:"delay_linear,omitempty"`
	MinBandwidth  uint64 `json:"min_bandwidth,omitempty"`
	NumClosids    uint64 `json:"num_closids,omitempty"`
}

// MBMNumaNodeStats is Intel RDT memory bandwidth monitoring of one node.
type MBMNumaNodeStats struct {
	MBMTotalBytes uint64 `json:"mbm_total_bytes"`
	MBMLocalBytes uint64 `json:"mbm_local_bytes"`
}

// CMTNumaNodeStats is Intel RDT cache monitoring of one node.
type CMTNumaNodeStats struct {
	LLCOccupancy uint64 `json:"llc_occupancy"`
}

// IntelRdt holds Intel RDT (resctrl) statistics. Berth does not manage
// resctrl yet, so it stays empty, as in runc on a host without RDT.
type IntelRdt struct {
	L3CacheInfo       *L3CacheInfo        `json:"l3_cache_info,omitempty"`
	L3CacheSchemaRoot string              `json:"l3_cache_schema_root,omitempty"`
	L3CacheSchema     string              `json:"l3_cache_schema,omitempty"`
	MemBwInfo         *MemBwInfo          `json:"mem_bw_info,omitempty"`
	MemBwSchemaRoot   string              `json:"mem_bw_schema_root,omitempty"`
	MemBwSchema       string              `json:"mem_bw_schema,omitempty"`
	MBMStats          *[]MBMNumaNodeStats `json:"mbm_stats,omitempty"`
	CMTStats          *[]CMTNumaNodeStats `json:"cmt_stats,omitempty"`
}

// NetworkInterface holds the counters of one interface (runc fills these only
// for the veth pairs it creates itself, which Berth does not; the field stays
// null).
type NetworkInterface struct {
	Name      string
	RxBytes   uint64
	RxPackets uint64
	RxErrors  uint64
	RxDropped uint64
	TxBytes   uint64
	TxPackets uint64
	TxErrors  uint64
	TxDropped uint64
}

// Stats reads the container's cgroup statistics.
func (m *Manager) Stats() (*Stats, error) {
	st, err := m.lib.GetStats()
	if err != nil {
		return nil, fmt.Errorf("read stats of cgroup %s: %w", m.describe(), err)
	}
	return convertStats(st), nil
}

// convertStats maps the library's statistics as runc 1.1.5's
// convertLibcontainerStats (events.go) does.
func convertStats(cg *cgroups.Stats) *Stats {
	var s Stats
	s.Pids = Pids{Current: cg.PidsStats.Current, Limit: cg.PidsStats.Limit}

	u := cg.CpuStats.CpuUsage
	s.CPU.Usage = CPUUsage{
		Total:        u.TotalUsage,
		Percpu:       u.PercpuUsage,
		PercpuKernel: u.PercpuUsageInKernelmode,
		PercpuUser:   u.PercpuUsageInUsermode,
		Kernel:       u.UsageInKernelmode,
		User:         u.UsageInUsermode,
	}
	t := cg.CpuStats.ThrottlingData
	s.CPU.Throttling = Throttling{Periods: t.Periods, ThrottledPeriods: t.ThrottledPeriods, ThrottledTime: t.ThrottledTime}

	cs := cg.CPUSetStats
	s.CPUSet = CPUSet{
		CPUs: cs.CPUs, CPUExclusive: cs.CPUExclusive, Mems: cs.Mems, MemHardwall: cs.MemHardwall,
		MemExclusive: cs.MemExclusive, MemoryMigrate: cs.MemoryMigrate, MemorySpreadPage: cs.MemorySpreadPage,
		MemorySpreadSlab: cs.MemorySpreadSlab, MemoryPressure: cs.MemoryPressure,
		SchedLoadBalance: cs.SchedLoadBalance, SchedRelaxDomainLevel: cs.SchedRelaxDomainLevel,
	}

	ms := cg.MemoryStats
	s.Memory = Memory{
		Cache:     ms.Cache,
		Usage:     memoryEntry(ms.Usage),
		Swap:      memoryEntry(ms.SwapUsage),
		Kernel:    memoryEntry(ms.KernelUsage),
		KernelTCP: memoryEntry(ms.KernelTCPUsage),
		Raw:       ms.Stats,
	}

	b := cg.BlkioStats
	s.Blkio = Blkio{
		IoServiceBytesRecursive: blkioEntries(b.IoServiceBytesRecursive),
		IoServicedRecursive:     blkioEntries(b.IoServicedRecursive),
		IoQueuedRecursive:       blkioEntries(b.IoQueuedRecursive),
		IoServiceTimeRecursive:  blkioEntries(b.IoServiceTimeRecursive),
		IoWaitTimeRecursive:     blkioEntries(b.IoWaitTimeRecursive),
		IoMergedRecursive:       blkioEntries(b.IoMergedRecursive),
		IoTimeRecursive:         blkioEntries(b.IoTimeRecursive),
		SectorsRecursive:        blkioEntries(b.SectorsRecursive),
	}

	s.Hugetlb = make(map[string]Hugetlb, len(cg.HugetlbStats))
	for k, v := range cg.HugetlbStats {
		s.Hugetlb[k] = Hugetlb{Usage: v.Usage, Max: v.MaxUsage, Failcnt: v.Failcnt}
	}
	return &s
}

func memoryEntry(d cgroups.MemoryData) MemoryEntry {
	return MemoryEntry{Limit: d.Limit, Usage: d.Usage, Max: d.MaxUsage, Failcnt: d.Failcnt}
}

func blkioEntries(in []cgroups.BlkioStatEntry) []BlkioEntry {
	var out []BlkioEntry
	for _, e := range in {
		out = append(out, BlkioEntry{Major: e.Major, Minor: e.Minor, Op: e.Op, Value: e.Value})
	}
	return out
}
