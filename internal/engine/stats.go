package engine

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/berth-project/berth/internal/linux/cgroups"
	"golang.org/x/sys/unix"
)

// ContainerStats is one reading of a container's resource use, the
// numbers docker's stats computes its columns from. A container that does
// not run reads as zeros (Running false).
//
// CPU % takes two readings (docker's --no-stream takes them a second
// apart): CPUPercent(prev, cur).
type ContainerStats struct {
	ID, Name string
	Running  bool
	Read     time.Time
	// CPUTotal is the container's CPU time (ns); SystemCPU the host's CPU
	// time over all CPUs (ns, /proc/stat) at the same moment.
	CPUTotal, SystemCPU uint64
	OnlineCPUs          int
	// MemUsage is the memory in use less the inactive file cache, as docker
	// counts it; MemLimit the cgroup's limit, or the host's memory when
	// that is lower (no limit).
	MemUsage, MemLimit uint64
	// NetRx and NetTx are the bytes through the container's network
	// namespace's interfaces but loopback (zero with --network host, as in
	// docker: that traffic is the host's).
	NetRx, NetTx uint64
	// BlockRead and BlockWrite are the bytes read and written to block
	// devices (blkio/io).
	BlockRead, BlockWrite uint64
	Pids                  uint64
}

// Stats reads the resource use of the container the user's word s names,
// from its OCI runtime (`events --stats`: the cgroup's counters) and its
// init's /proc/<pid>/net/dev.
func (e *Engine) Stats(ctx context.Context, s string) (ContainerStats, error) {
	c, err := e.container(s)
	if err != nil {
		return ContainerStats{}, err
	}
	return e.stats(ctx, c)
}

func (e *Engine) stats(ctx context.Context, c Container) (ContainerStats, error) {
	out := ContainerStats{ID: c.ID, Name: c.Name, Read: time.Now()}
	st := e.State(ctx, c)
	if !st.Running {
		return out, nil
	}
	raw, err := e.runtimeFor(c).Stats(ctx, c.ID)
	if gone(err) {
		return out, nil // exited meanwhile
	}
	if err != nil {
		return out, fmt.Errorf("stats of %s: %w", c.Name, err)
	}
	out.SystemCPU, out.OnlineCPUs, err = systemCPU()
	if err != nil {
		return out, err
	}
	var cs cgroups.Stats
	if err := json.Unmarshal(raw, &cs); err != nil {
		return out, fmt.Errorf("stats of %s: %w", c.Name, err)
	}
	out.Running = true
	out.CPUTotal = cs.CPU.Usage.Total
	if n := len(cs.CPU.Usage.Percpu); n > 0 && out.OnlineCPUs == 0 {
		out.OnlineCPUs = n
	}
	out.MemUsage, out.MemLimit = memoryUse(cs.Memory)
	out.Pids = cs.Pids.Current
	out.BlockRead, out.BlockWrite = blockIO(cs.Blkio)
	if c.Network != "host" && st.Pid > 0 {
		out.NetRx, out.NetTx = netIO(st.Pid)
	}
	return out, nil
}

// CPUPercent is docker's CPU %: the container's share of the host's CPU
// time between two readings, times the number of CPUs (100% is one CPU).
func CPUPercent(prev, cur ContainerStats) float64 {
	if !prev.Running || !cur.Running || cur.CPUTotal < prev.CPUTotal || cur.SystemCPU <= prev.SystemCPU {
		return 0
	}
	cpu := float64(cur.CPUTotal - prev.CPUTotal)
	sys := float64(cur.SystemCPU - prev.SystemCPU)
	return cpu / sys * float64(cur.OnlineCPUs) * 100
}

// MemPercent is docker's MEM %.
func (s ContainerStats) MemPercent() float64 {
	if s.MemLimit == 0 {
		return 0
	}
	return float64(s.MemUsage) / float64(s.MemLimit) * 100
}

// memoryUse is docker's memory usage (less the inactive file cache: v1's
// total_inactive_file, v2's inactive_file) and the limit, capped at the
// host's memory.
func memoryUse(m cgroups.Memory) (usage, limit uint64) {
	usage = m.Usage.Usage
	for _, k := range []string{"total_inactive_file", "inactive_file"} {
		if v, ok := m.Raw[k]; ok {
			if v < usage {
				usage -= v
			}
			break
		}
	}
	limit = m.Usage.Limit
	var si unix.Sysinfo_t
	if unix.Sysinfo(&si) == nil {
		if host := uint64(si.Totalram) * uint64(si.Unit); host > 0 && (limit == 0 || limit > host) {
			limit = host
		}
	}
	return usage, limit
}

// blockIO sums the bytes read and written over every device.
func blockIO(b cgroups.Blkio) (read, write uint64) {
	for _, e := range b.IoServiceBytesRecursive {
		switch strings.ToLower(e.Op) {
		case "read":
			read += e.Value
		case "write":
			write += e.Value
		}
	}
	return read, write
}

// netIO sums the bytes received and sent by the interfaces of pid's
// network namespace but loopback.
func netIO(pid int) (rx, tx uint64) {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/net/dev")
	if err != nil {
		return 0, 0
	}
	defer f.Close()
	return parseNetDev(bufio.NewScanner(f))
}

// parseNetDev reads /proc/net/dev: two header lines, then
// "  eth0: rxbytes rxpackets … (8 fields) txbytes …".
func parseNetDev(sc *bufio.Scanner) (rx, tx uint64) {
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok || strings.TrimSpace(name) == "lo" {
			continue
		}
		f := strings.Fields(rest)
		if len(f) < 9 {
			continue
		}
		r, err1 := strconv.ParseUint(f[0], 10, 64)
		t, err2 := strconv.ParseUint(f[8], 10, 64)
		if err1 == nil && err2 == nil {
			rx, tx = rx+r, tx+t
		}
	}
	return rx, tx
}

// clockTicks is USER_HZ, the unit of /proc/stat (100 on every Linux
// architecture Go supports).
const clockTicks = 100

// systemCPU reads the host's CPU time (ns) as docker does — user, nice,
// system, idle, iowait, irq and softirq of /proc/stat's "cpu" line — and
// the number of CPUs online.
func systemCPU() (ns uint64, cpus int, err error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, err
	}
	return parseProcStat(string(b))
}

func parseProcStat(s string) (ns uint64, cpus int, err error) {
	found := false
	for _, line := range strings.Split(s, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || !strings.HasPrefix(f[0], "cpu") {
			continue
		}
		if f[0] != "cpu" {
			cpus++
			continue
		}
		if len(f) < 8 {
			return 0, 0, fmt.Errorf("/proc/stat: cpu line %q: too few fields", line)
		}
		var ticks uint64
		for _, v := range f[1:8] {
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				return 0, 0, fmt.Errorf("/proc/stat: cpu line %q: %w", line, err)
			}
			ticks += n
		}
		ns, found = ticks*(1e9/clockTicks), true
	}
	if !found {
		return 0, 0, fmt.Errorf("/proc/stat: no cpu line")
	}
	return ns, cpus, nil
}
