package spec

import (
	"fmt"
	"math"
	"path"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-project/berth/internal/errdefs"
)

// minMemory is docker's smallest memory limit and reservation (6 MiB,
// linuxMinMemory).
const minMemory = 6 << 20

// cfsPeriod is the CFS period --cpus is expressed over (100 ms, in µs).
const cfsPeriod = 100000

// memory checks and converts the memory flags as docker's
// verifyPlatformContainerResources, adaptContainerSettings and
// getMemoryResources do: a swap of 0 with a memory limit is twice the limit,
// -1 is unlimited (left out of the spec), and a limit must be at least 6
// MiB, at most the swap limit and at least the reservation.
func memory(opts RunOptions) (*specs.LinuxMemory, error) {
	mem, swap, res := opts.Memory, opts.MemorySwap, opts.MemoryReservation
	switch {
	case mem != 0 && mem < minMemory:
		return nil, fmt.Errorf("memory %d: minimum memory limit allowed is 6MB: %w", mem, errdefs.ErrInvalidArgument)
	case swap < -1:
		return nil, fmt.Errorf("memory-swap %d: want -1 (unlimited), 0 or a size: %w", swap, errdefs.ErrInvalidArgument)
	case mem == 0 && swap > 0:
		return nil, fmt.Errorf("memory-swap %d: you should always set the memory limit when using memoryswap limit: %w", swap, errdefs.ErrInvalidArgument)
	case mem > 0 && swap > 0 && swap < mem:
		return nil, fmt.Errorf("memory-swap %d below memory %d: minimum memoryswap limit should be larger than memory limit: %w", swap, mem, errdefs.ErrInvalidArgument)
	case res < 0 || (res > 0 && res < minMemory):
		return nil, fmt.Errorf("memory-reservation %d: minimum memory reservation allowed is 6MB: %w", res, errdefs.ErrInvalidArgument)
	case mem > 0 && res > mem:
		return nil, fmt.Errorf("memory %d below memory-reservation %d: minimum memory limit can not be less than memory reservation limit: %w", mem, res, errdefs.ErrInvalidArgument)
	}
	if mem > 0 && swap == 0 {
		if mem > math.MaxInt64/2 {
			swap = -1
		} else {
			swap = 2 * mem
		}
	}
	var m specs.LinuxMemory
	if mem > 0 {
		m.Limit = &mem
	}
	if swap > 0 {
		m.Swap = &swap
	}
	if res > 0 {
		m.Reservation = &res
	}
	if m == (specs.LinuxMemory{}) {
		return nil, nil
	}
	return &m, nil
}

// cpu converts --cpus (to a quota over a 100 ms period, through docker's
// NanoCPUs), --cpu-shares and the cpusets.
func cpu(opts RunOptions) (*specs.LinuxCPU, error) {
	var c specs.LinuxCPU
	if opts.CPUs != 0 {
		if math.IsNaN(opts.CPUs) || opts.CPUs < 0 || opts.CPUs > 1<<20 {
			return nil, fmt.Errorf("cpus %v: want a positive number of CPUs: %w", opts.CPUs, errdefs.ErrInvalidArgument)
		}
		nano := int64(math.Round(opts.CPUs * 1e9))
		quota := nano * cfsPeriod / 1e9
		if quota < 1000 {
			return nil, fmt.Errorf("cpus %v: CPU cfs quota can not be less than 1ms (0.01 CPUs): %w", opts.CPUs, errdefs.ErrInvalidArgument)
		}
		period := uint64(cfsPeriod)
		c.Period, c.Quota = &period, &quota
	}
	if opts.CPUShares != 0 {
		shares := opts.CPUShares
		c.Shares = &shares
	}
	c.Cpus, c.Mems = opts.CpusetCpus, opts.CpusetMems
	for _, s := range []struct{ flag, v string }{{"cpuset-cpus", c.Cpus}, {"cpuset-mems", c.Mems}} {
		if strings.Trim(s.v, "0123456789,-") != "" {
			return nil, fmt.Errorf("%s %q: want a list like 0-3,5: %w", s.flag, s.v, errdefs.ErrInvalidArgument)
		}
	}
	if c == (specs.LinuxCPU{}) {
		return nil, nil
	}
	return &c, nil
}

// pids is --pids-limit: 0 unset, negative unlimited (-1).
func pids(opts RunOptions) *specs.LinuxPids {
	if opts.PidsLimit == 0 {
		return nil
	}
	limit := opts.PidsLimit
	if limit < 0 {
		limit = -1
	}
	return &specs.LinuxPids{Limit: &limit}
}

// rlimitTypes are the rlimits --ulimit may set.
var rlimitTypes = map[string]bool{
	"RLIMIT_AS": true, "RLIMIT_CORE": true, "RLIMIT_CPU": true, "RLIMIT_DATA": true,
	"RLIMIT_FSIZE": true, "RLIMIT_LOCKS": true, "RLIMIT_MEMLOCK": true,
	"RLIMIT_MSGQUEUE": true, "RLIMIT_NICE": true, "RLIMIT_NOFILE": true,
	"RLIMIT_NPROC": true, "RLIMIT_RSS": true, "RLIMIT_RTPRIO": true,
	"RLIMIT_RTTIME": true, "RLIMIT_SIGPENDING": true, "RLIMIT_STACK": true,
}

// rlimits checks --ulimit: known types, each once, soft not above hard.
func rlimits(opts RunOptions) ([]specs.POSIXRlimit, error) {
	var out []specs.POSIXRlimit
	seen := map[string]bool{}
	for _, r := range opts.Ulimits {
		if !rlimitTypes[r.Type] {
			return nil, fmt.Errorf("ulimit %q: unknown rlimit: %w", r.Type, errdefs.ErrInvalidArgument)
		}
		if seen[r.Type] {
			return nil, fmt.Errorf("ulimit %q: given twice: %w", r.Type, errdefs.ErrInvalidArgument)
		}
		if r.Soft > r.Hard {
			return nil, fmt.Errorf("ulimit %q: soft limit %d above hard limit %d: %w", r.Type, r.Soft, r.Hard, errdefs.ErrInvalidArgument)
		}
		seen[r.Type] = true
		out = append(out, r)
	}
	return out, nil
}

func i64(v int64) *int64 { return &v }

// dockerDeviceRules is docker's device cgroup: deny everything, then allow
// zero, null, urandom, random, tty, console, and deny fuse (moby
// DefaultLinuxSpec). Runtimes add the standard nodes and ptys after it, as
// runc's AllowedDevices (and berth-runtime's) do.
func dockerDeviceRules() []specs.LinuxDeviceCgroup {
	allow := func(major, minor int64) specs.LinuxDeviceCgroup {
		return specs.LinuxDeviceCgroup{Allow: true, Type: "c", Major: i64(major), Minor: i64(minor), Access: "rwm"}
	}
	return []specs.LinuxDeviceCgroup{
		{Allow: false, Access: "rwm"},
		allow(1, 5),
		allow(1, 3),
		allow(1, 9),
		allow(1, 8),
		allow(5, 0),
		allow(5, 1),
		{Allow: false, Type: "c", Major: i64(10), Minor: i64(229), Access: "rwm"},
	}
}

// devices returns the device nodes to create and the device cgroup, as
// docker's WithDevices: each --device node with a rule for its
// permissions; privileged, every device allowed. A later device with the
// same container path replaces an earlier one.
func devices(opts RunOptions) ([]specs.LinuxDevice, []specs.LinuxDeviceCgroup, error) {
	var devs []specs.LinuxDevice
	var perms []Device
	for _, d := range opts.Devices {
		if !path.IsAbs(d.Path) {
			return nil, nil, fmt.Errorf("device %q: the path in the container must be absolute: %w", d.Path, errdefs.ErrInvalidArgument)
		}
		switch d.Type {
		case "c", "b", "u", "p":
		default:
			return nil, nil, fmt.Errorf("device %q: type %q: want c, b, u or p: %w", d.Path, d.Type, errdefs.ErrInvalidArgument)
		}
		if d.Permissions == "" {
			d.Permissions = "rwm"
		}
		if !validAccess(d.Permissions) {
			return nil, nil, fmt.Errorf("device %q: permissions %q: want letters of \"rwm\", each once: %w", d.Path, d.Permissions, errdefs.ErrInvalidArgument)
		}
		d.LinuxDevice.Path = path.Clean(d.Path)
		replaced := false
		for i := range devs {
			if devs[i].Path == d.LinuxDevice.Path {
				devs[i], perms[i], replaced = d.LinuxDevice, d, true
			}
		}
		if !replaced {
			devs = append(devs, d.LinuxDevice)
			perms = append(perms, d)
		}
	}
	if opts.Privileged {
		return devs, []specs.LinuxDeviceCgroup{{Allow: true, Access: "rwm"}}, nil
	}
	rules := dockerDeviceRules()
	for _, d := range perms {
		t := d.Type
		switch t {
		case "p":
			continue // a fifo needs no device cgroup rule
		case "u":
			t = "c"
		}
		rules = append(rules, specs.LinuxDeviceCgroup{Allow: true, Type: t, Major: i64(d.Major), Minor: i64(d.Minor), Access: d.Permissions})
	}
	return devs, rules, nil
}

// validAccess reports whether s is made of r, w and m, each at most once.
func validAccess(s string) bool {
	if s == "" || len(s) > 3 {
		return false
	}
	for i, c := range s {
		if !strings.ContainsRune("rwm", c) || strings.ContainsRune(s[i+1:], c) {
			return false
		}
	}
	return true
}
