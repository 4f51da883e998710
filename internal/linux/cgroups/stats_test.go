package cgroups

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"

	"github.com/opencontainers/cgroups"
)

// TestStatsJSONMatchesRunc round-trips the "data" object that runc 1.1.5's
// `events --stats` printed for a container on a hybrid host: every field
// name, order and omitempty choice must give back the same bytes.
func TestStatsJSONMatchesRunc(t *testing.T) {
	want, err := os.ReadFile("testdata/runc-1.1.5-events-stats.json")
	if err != nil {
		t.Fatal(err)
	}
	want = bytes.TrimSpace(want)
	var s Stats
	dec := json.NewDecoder(bytes.NewReader(want))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		t.Fatalf("decode runc's stats: %v", err)
	}
	got, err := json.Marshal(&s)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("round trip differs:\n got %s\nwant %s", got, want)
	}
}

// TestStatsJSONZero pins the encoding of empty stats (runc's types with zero
// values: always-present counters, omitted empty ones, null interfaces).
func TestStatsJSONZero(t *testing.T) {
	got, err := json.Marshal(convertStats(cgroups.NewStats()))
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"cpu":{"usage":{"kernel":0,"user":0},"throttling":{}},` +
		`"cpuset":{"cpu_exclusive":0,"mem_hardwall":0,"mem_exclusive":0,"memory_migrate":0,"memory_spread_page":0,"memory_spread_slab":0,"memory_pressure":0,"sched_load_balance":0,"sched_relax_domain_level":0},` +
		`"memory":{"usage":{"limit":0,"failcnt":0},"swap":{"limit":0,"failcnt":0},"kernel":{"limit":0,"failcnt":0},"kernelTCP":{"limit":0,"failcnt":0}},` +
		`"pids":{},"blkio":{},"hugetlb":{},"intel_rdt":{},"network_interfaces":null}`
	if string(got) != want {
		t.Errorf("empty stats:\n got %s\nwant %s", got, want)
	}
}

func TestConvertStats(t *testing.T) {
	in := cgroups.NewStats()
	in.CpuStats.ThrottlingData.ThrottledPeriods = 3
	in.MemoryStats.SwapUsage = cgroups.MemoryData{Usage: 5, MaxUsage: 6, Limit: 7}
	in.BlkioStats.IoServiceBytesRecursive = []cgroups.BlkioStatEntry{{Major: 8, Minor: 0, Op: "Read", Value: 9}}
	in.HugetlbStats["2MB"] = cgroups.HugetlbStats{Usage: 1, MaxUsage: 2, Failcnt: 3}
	b, err := json.Marshal(convertStats(in))
	if err != nil {
		t.Fatal(err)
	}
	for _, frag := range []string{
		`"throttling":{"throttledPeriods":3}`,
		`"swap":{"limit":7,"usage":5,"max":6,"failcnt":0}`,
		`"blkio":{"ioServiceBytesRecursive":[{"major":8,"op":"Read","value":9}]}`,
		`"hugetlb":{"2MB":{"usage":1,"max":2,"failcnt":3}}`,
	} {
		if !bytes.Contains(b, []byte(frag)) {
			t.Errorf("stats JSON %s lacks %s", b, frag)
		}
	}
}
