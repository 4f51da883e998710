package cgroups

import (
	"errors"
	"testing"

	"github.com/opencontainers/cgroups/devices/config"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-project/berth/internal/errdefs"
)

func TestToResources(t *testing.T) {
	r := &specs.LinuxResources{
		Devices: []specs.LinuxDeviceCgroup{
			{Allow: false, Access: "rwm"},
			{Allow: true, Type: "b", Major: ptr(int64(8)), Access: "r"},
		},
		Memory: &specs.LinuxMemory{Limit: ptr(int64(100)), Swap: ptr(int64(-1)), Kernel: ptr(int64(5)), Swappiness: ptr(uint64(0))},
		CPU:    &specs.LinuxCPU{Shares: ptr(uint64(1024)), Quota: ptr(int64(-1)), Cpus: "0-1"},
		Pids:   &specs.LinuxPids{Limit: ptr(int64(0))},
		BlockIO: &specs.LinuxBlockIO{
			Weight:                ptr(uint16(500)),
			ThrottleReadBpsDevice: []specs.LinuxThrottleDevice{{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 8, Minor: 0}, Rate: 42}},
		},
		Network: &specs.LinuxNetwork{ClassID: ptr(uint32(7)), Priorities: []specs.LinuxInterfacePriority{{Name: "eth0", Priority: 3}}},
		Unified: map[string]string{"memory.high": "1000"},
	}
	c, ignored, err := toResources(r)
	if err != nil {
		t.Fatal(err)
	}
	if c.Memory != 100 || c.MemorySwap != -1 || c.MemorySwappiness == nil || *c.MemorySwappiness != 0 {
		t.Errorf("memory = %d swap %d swappiness %v", c.Memory, c.MemorySwap, c.MemorySwappiness)
	}
	if len(ignored) != 1 {
		t.Errorf("ignored = %q, want the kernel memory warning", ignored)
	}
	if c.CpuShares != 1024 || c.CpuWeight != 100 || c.CpuQuota != -1 || c.CpusetCpus != "0-1" {
		t.Errorf("cpu = shares %d weight %d quota %d cpus %q", c.CpuShares, c.CpuWeight, c.CpuQuota, c.CpusetCpus)
	}
	if c.PidsLimit != nil {
		t.Errorf("pids limit 0 = %d, want unset (runc 1.1.5)", *c.PidsLimit)
	}
	if c.BlkioWeight != 500 || len(c.BlkioThrottleReadBpsDevice) != 1 || c.BlkioThrottleReadBpsDevice[0].String() != "8:0 42" {
		t.Errorf("blkio = weight %d throttle %v", c.BlkioWeight, c.BlkioThrottleReadBpsDevice)
	}
	if c.NetClsClassid != 7 || len(c.NetPrioIfpriomap) != 1 || c.NetPrioIfpriomap[0].CgroupString() != "eth0 3" {
		t.Errorf("network = %d %v", c.NetClsClassid, c.NetPrioIfpriomap)
	}
	if c.Unified["memory.high"] != "1000" {
		t.Errorf("unified = %v", c.Unified)
	}
	// The spec's rules, then runc's defaults.
	if len(c.Devices) != 2+len(defaultDeviceRules) {
		t.Fatalf("%d device rules, want %d", len(c.Devices), 2+len(defaultDeviceRules))
	}
	first, second := c.Devices[0], c.Devices[1]
	if first.Type != config.WildcardDevice || first.Allow || first.Major != config.Wildcard || first.Permissions != "rwm" {
		t.Errorf("rule 0 = %+v, want deny a *:* rwm", first)
	}
	if second.Type != config.BlockDevice || !second.Allow || second.Major != 8 || second.Minor != config.Wildcard {
		t.Errorf("rule 1 = %+v, want allow b 8:* r", second)
	}
	if got := c.Devices[len(c.Devices)-1].CgroupString(); got != "c 10:200 rwm" {
		t.Errorf("last rule = %q, want the tun default", got)
	}
}

func TestToResourcesNil(t *testing.T) {
	c, _, err := toResources(nil)
	if err != nil || len(c.Devices) != len(defaultDeviceRules) {
		t.Errorf("toResources(nil) = %d rules, %v; want the defaults", len(c.Devices), err)
	}
}

func TestToResourcesBadDevices(t *testing.T) {
	for _, d := range []specs.LinuxDeviceCgroup{
		{Allow: true, Type: "x", Access: "rwm"},
		{Allow: true, Type: "c", Access: ""},
		{Allow: true, Type: "c", Access: "rwx"},
	} {
		if _, _, err := toResources(&specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{d}}); !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Errorf("device %+v: error %v, want InvalidArgument", d, err)
		}
	}
}

func TestValidateCpuset(t *testing.T) {
	for _, s := range []string{"0", "0-3,5", "0-7:2/4", "1,2, 3\n"} {
		if err := checkList(s); err != nil {
			t.Errorf("checkList(%q): %v", s, err)
		}
	}
	for _, s := range []string{"abc", "0-x", " ", "1;2"} {
		if err := checkList(s); err == nil {
			t.Errorf("checkList(%q) accepted", s)
		}
	}
}
