package engine

import (
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestResourceChange(t *testing.T) {
	i64 := func(v int64) *int64 { return &v }
	f64 := func(v float64) *float64 { return &v }
	str := func(v string) *string { return &v }
	u64 := func(v uint64) *uint64 { return &v }
	limited := specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i64(64 << 20), Swap: i64(128 << 20)}}

	ch, err := resourceChange(specs.LinuxResources{}, UpdateOptions{Memory: i64(32 << 20), CPUs: f64(1.5), PidsLimit: i64(0), CpusetCpus: str("0-1"), CPUShares: u64(512)})
	if err != nil {
		t.Fatal(err)
	}
	if *ch.Memory.Limit != 32<<20 || ch.Memory.Swap != nil || *ch.CPU.Quota != 150000 || *ch.CPU.Period != 100000 ||
		*ch.Pids.Limit != -1 || ch.CPU.Cpus != "0-1" || *ch.CPU.Shares != 512 {
		t.Fatalf("change: %+v %+v %+v", *ch.Memory, *ch.CPU, *ch.Pids)
	}
	res := applyResources(limited, ch)
	if *res.Memory.Limit != 32<<20 || *res.Memory.Swap != 128<<20 || res.Pids != nil || *res.CPU.Quota != 150000 {
		t.Fatalf("applied: %+v %+v %+v", *res.Memory, *res.CPU, res.Pids)
	}
	// -1 lifts a limit: the spec leaves it out, as create does.
	ch, err = resourceChange(limited, UpdateOptions{Memory: i64(-1), MemorySwap: i64(-1), CPUs: f64(0)})
	if err != nil {
		t.Fatal(err)
	}
	res = applyResources(limited, ch)
	if res.Memory != nil || res.CPU.Quota != nil || res.CPU.Period != nil {
		t.Fatalf("lifted: %+v %+v", res.Memory, *res.CPU)
	}
	if ch, err := resourceChange(limited, UpdateOptions{}); err != nil || ch != nil {
		t.Fatalf("no change: %v, %v", ch, err)
	}

	for name, o := range map[string]UpdateOptions{
		"memory below 6MB":            {Memory: i64(1 << 20)},
		"memory above the swap limit": {Memory: i64(256 << 20)},
		"swap below memory":           {Memory: i64(64 << 20), MemorySwap: i64(32 << 20)},
		"swap of -2":                  {MemorySwap: i64(-2)},
		"negative cpus":               {CPUs: f64(-1)},
		"cpus below a 1ms quota":      {CPUs: f64(0.001)},
		"cpu shares of 1":             {CPUShares: u64(1)},
		"bad cpuset":                  {CpusetCpus: str("a-b")},
		"empty cpuset":                {CpusetMems: str("")},
		"pids below -1":               {PidsLimit: i64(-5)},
	} {
		if _, err := resourceChange(limited, o); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := resourceChange(specs.LinuxResources{}, UpdateOptions{MemorySwap: i64(64 << 20)}); err == nil {
		t.Error("swap without a memory limit: no error")
	}
}
