package runtime

import (
	"reflect"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func ptr[T any](v T) *T { return &v }

func current() specs.LinuxResources {
	return specs.LinuxResources{
		Devices: []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}},
		Memory:  &specs.LinuxMemory{Limit: ptr[int64](100 << 20), Swap: ptr[int64](200 << 20), Swappiness: ptr[uint64](10)},
		CPU:     &specs.LinuxCPU{Shares: ptr[uint64](512), Quota: ptr[int64](50000), Period: ptr[uint64](100000), Cpus: "0-1", Mems: "0"},
		Pids:    &specs.LinuxPids{Limit: ptr[int64](100)},
		BlockIO: &specs.LinuxBlockIO{Weight: ptr[uint16](300)},
		Unified: map[string]string{"memory.high": "max"},
	}
}

func TestMergeResourcesEmptyUpdate(t *testing.T) {
	if got := mergeResources(current(), &specs.LinuxResources{}); !reflect.DeepEqual(got, current()) {
		t.Errorf("an empty update changed the resources:\ngot  %+v\nwant %+v", got, current())
	}
}

func TestMergeResourcesFields(t *testing.T) {
	cur := current()
	got := mergeResources(cur, &specs.LinuxResources{
		Memory: &specs.LinuxMemory{Limit: ptr[int64](300 << 20)},
		CPU:    &specs.LinuxCPU{Quota: ptr[int64](20000), Cpus: "1"},
	})
	want := current()
	want.Memory.Limit = ptr[int64](300 << 20)
	want.CPU.Quota = ptr[int64](20000)
	want.CPU.Cpus = "1"
	if !reflect.DeepEqual(got, want) {
		t.Errorf("merge:\ngot  %+v %+v\nwant %+v %+v", *got.Memory, *got.CPU, *want.Memory, *want.CPU)
	}
	// The current resources are not changed through shared pointers.
	if *cur.Memory.Limit != 100<<20 || *cur.CPU.Quota != 50000 || cur.CPU.Cpus != "0-1" {
		t.Errorf("merge changed its input: %+v %+v", *cur.Memory, *cur.CPU)
	}
}

func TestMergeResourcesAllMemoryAndCPUFields(t *testing.T) {
	u := &specs.LinuxResources{
		Memory: &specs.LinuxMemory{
			Limit: ptr[int64](1), Reservation: ptr[int64](2), Swap: ptr[int64](3), Kernel: ptr[int64](4),
			KernelTCP: ptr[int64](5), Swappiness: ptr[uint64](6), DisableOOMKiller: ptr(true),
		},
		CPU: &specs.LinuxCPU{
			Shares: ptr[uint64](7), Quota: ptr[int64](8), Period: ptr[uint64](9), RealtimeRuntime: ptr[int64](10),
			RealtimePeriod: ptr[uint64](11), Idle: ptr[int64](1), Cpus: "2-3", Mems: "1",
		},
	}
	got := mergeResources(current(), u)
	if !reflect.DeepEqual(got.Memory, u.Memory) || !reflect.DeepEqual(got.CPU, u.CPU) {
		t.Errorf("every memory and cpu field set:\ngot  %+v %+v\nwant %+v %+v", *got.Memory, *got.CPU, *u.Memory, *u.CPU)
	}
	// Onto nothing: the set fields are the result.
	got = mergeResources(specs.LinuxResources{}, u)
	if !reflect.DeepEqual(got.Memory, u.Memory) || !reflect.DeepEqual(got.CPU, u.CPU) {
		t.Errorf("merge onto empty resources:\ngot  %+v %+v", *got.Memory, *got.CPU)
	}
}

func TestMergeResourcesReplacesWholeSections(t *testing.T) {
	u := &specs.LinuxResources{
		Pids:           &specs.LinuxPids{Limit: ptr[int64](5)},
		BlockIO:        &specs.LinuxBlockIO{LeafWeight: ptr[uint16](10)},
		HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "2MB", Limit: 1 << 21}},
		Network:        &specs.LinuxNetwork{ClassID: ptr[uint32](7)},
		Unified:        map[string]string{"pids.max": "5"},
	}
	got := mergeResources(current(), u)
	want := current()
	want.Pids, want.BlockIO, want.HugepageLimits, want.Network, want.Unified = u.Pids, u.BlockIO, u.HugepageLimits, u.Network, u.Unified
	if !reflect.DeepEqual(got, want) {
		t.Errorf("merge:\ngot  %+v\nwant %+v", got, want)
	}
	// Devices are not updatable: the recorded rules stay.
	got = mergeResources(current(), &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Allow: true, Access: "rwm"}}})
	if !reflect.DeepEqual(got.Devices, current().Devices) {
		t.Errorf("device rules changed by update: %+v", got.Devices)
	}
}
