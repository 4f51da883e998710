package engine

import (
	"bufio"
	"math"
	"strings"
	"testing"

	"github.com/berth-project/berth/internal/linux/cgroups"
)

func TestParseProcStat(t *testing.T) {
	s := "cpu  100 5 50 1000 10 1 2 7 0 0\ncpu0 50 2 25 500 5 1 1 3 0 0\ncpu1 50 3 25 500 5 0 1 4 0 0\nintr 123\n"
	ns, cpus, err := parseProcStat(s)
	if err != nil {
		t.Fatal(err)
	}
	// user+nice+system+idle+iowait+irq+softirq = 1168 ticks of 10 ms.
	if ns != 1168*10_000_000 || cpus != 2 {
		t.Fatalf("parseProcStat = %d ns, %d cpus; want %d, 2", ns, cpus, 1168*10_000_000)
	}
	if _, _, err := parseProcStat("intr 1\n"); err == nil {
		t.Fatal("no cpu line: no error")
	}
}

func TestParseNetDev(t *testing.T) {
	s := `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:  999999      10    0    0    0     0          0         0   999999      10    0    0    0     0       0          0
  eth0:    1500      12    0    0    0     0          0         0      700       8    0    0    0     0       0          0
  eth1:     500       2    0    0    0     0          0         0      300       1    0    0    0     0       0          0
`
	rx, tx := parseNetDev(bufio.NewScanner(strings.NewReader(s)))
	if rx != 2000 || tx != 1000 {
		t.Fatalf("parseNetDev = %d/%d, want 2000/1000 (loopback left out)", rx, tx)
	}
}

func TestCPUPercent(t *testing.T) {
	prev := ContainerStats{Running: true, CPUTotal: 1e9, SystemCPU: 100e9, OnlineCPUs: 4}
	cur := ContainerStats{Running: true, CPUTotal: 1.5e9, SystemCPU: 104e9, OnlineCPUs: 4}
	// 0.5 s of CPU over 4 s of host CPU time on 4 CPUs: half of one CPU.
	if got := CPUPercent(prev, cur); math.Abs(got-50) > 1e-9 {
		t.Fatalf("CPUPercent = %v, want 50", got)
	}
	if got := CPUPercent(ContainerStats{}, cur); got != 0 {
		t.Fatalf("CPUPercent without a first reading = %v, want 0", got)
	}
	if got := CPUPercent(cur, prev); got != 0 {
		t.Fatalf("CPUPercent backwards = %v, want 0", got)
	}
}

func TestMemoryUse(t *testing.T) {
	m := cgroups.Memory{Usage: cgroups.MemoryEntry{Usage: 10 << 20, Limit: 64 << 20}, Raw: map[string]uint64{"total_inactive_file": 2 << 20}}
	u, l := memoryUse(m)
	if u != 8<<20 || l != 64<<20 {
		t.Fatalf("memoryUse = %d / %d, want %d / %d", u, l, 8<<20, 64<<20)
	}
	m = cgroups.Memory{Usage: cgroups.MemoryEntry{Usage: 1 << 20, Limit: math.MaxInt64}, Raw: map[string]uint64{"inactive_file": 4 << 20}}
	u, l = memoryUse(m)
	if u != 1<<20 {
		t.Fatalf("usage below the cache: %d, want it kept", u)
	}
	if l == math.MaxInt64 || l == 0 {
		t.Fatalf("an unlimited cgroup's limit %d: want the host's memory", l)
	}
	r, w := blockIO(cgroups.Blkio{IoServiceBytesRecursive: []cgroups.BlkioEntry{
		{Op: "Read", Value: 3}, {Op: "Write", Value: 4}, {Op: "read", Value: 5}, {Op: "Total", Value: 12}}})
	if r != 8 || w != 4 {
		t.Fatalf("blockIO = %d/%d, want 8/4", r, w)
	}
}
