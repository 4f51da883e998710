package runtime

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/linux/cgroups"
)

// Update changes the resources of a created, running or paused container:
// the non-nil fields of res replace the recorded ones, then the whole set
// is written to the cgroups.
func (r *Runtime) Update(id string, res *specs.LinuxResources) error {
	c, unlock, err := r.loadLocked(id)
	if err != nil {
		return err
	}
	defer unlock()
	if st := c.Status(); st == Stopped {
		return wrongState(c, "update", st)
	}
	m, err := c.cgroupManager()
	if err != nil {
		return err
	}
	if m == nil {
		return fmt.Errorf("update %q: the container has no cgroup: %w", id, errdefs.ErrFailedPrecondition)
	}
	cur := c.State.Spec.Linux.Resources
	if cur == nil {
		cur = &specs.LinuxResources{}
	}
	merged := mergeResources(*cur, res)
	c.State.Spec.Linux.Resources = &merged
	if err := m.Set(withDeviceRules(c.State.Spec)); err != nil {
		return fmt.Errorf("update %q: %w", id, err)
	}
	return c.save()
}

func mergeResources(cur specs.LinuxResources, u *specs.LinuxResources) specs.LinuxResources {
	if u.Memory != nil {
		if cur.Memory == nil {
			cur.Memory = &specs.LinuxMemory{}
		}
		m := *cur.Memory
		setIf(&m.Limit, u.Memory.Limit)
		setIf(&m.Reservation, u.Memory.Reservation)
		setIf(&m.Swap, u.Memory.Swap)
		setIf(&m.Kernel, u.Memory.Kernel)
		setIf(&m.KernelTCP, u.Memory.KernelTCP)
		setIf(&m.Swappiness, u.Memory.Swappiness)
		setIf(&m.DisableOOMKiller, u.Memory.DisableOOMKiller)
		cur.Memory = &m
	}
	if u.CPU != nil {
		if cur.CPU == nil {
			cur.CPU = &specs.LinuxCPU{}
		}
		c := *cur.CPU
		setIf(&c.Shares, u.CPU.Shares)
		setIf(&c.Quota, u.CPU.Quota)
		setIf(&c.Period, u.CPU.Period)
		setIf(&c.RealtimeRuntime, u.CPU.RealtimeRuntime)
		setIf(&c.RealtimePeriod, u.CPU.RealtimePeriod)
		setIf(&c.Idle, u.CPU.Idle)
		if u.CPU.Cpus != "" {
			c.Cpus = u.CPU.Cpus
		}
		if u.CPU.Mems != "" {
			c.Mems = u.CPU.Mems
		}
		cur.CPU = &c
	}
	if u.Pids != nil {
		cur.Pids = u.Pids
	}
	if u.BlockIO != nil {
		cur.BlockIO = u.BlockIO
	}
	if u.HugepageLimits != nil {
		cur.HugepageLimits = u.HugepageLimits
	}
	if u.Network != nil {
		cur.Network = u.Network
	}
	if u.Unified != nil {
		cur.Unified = u.Unified
	}
	return cur
}

func setIf[T any](dst **T, v *T) {
	if v != nil {
		*dst = v
	}
}

// Stats returns the cgroup statistics of a container.
func (r *Runtime) Stats(id string) (*cgroups.Stats, error) {
	c, err := r.load(id)
	if err != nil {
		return nil, err
	}
	if st := c.Status(); st == Stopped {
		return nil, wrongState(c, "get stats of", st)
	}
	m, err := c.cgroupManager()
	if err != nil {
		return nil, err
	}
	if m == nil {
		return nil, fmt.Errorf("stats of %q: the container has no cgroup: %w", id, errdefs.ErrFailedPrecondition)
	}
	return m.Stats()
}

// OOMKills returns how many times the OOM killer killed in the container.
func (r *Runtime) OOMKills(id string) (uint64, error) {
	c, err := r.load(id)
	if err != nil {
		return 0, err
	}
	m, err := c.cgroupManager()
	if err != nil || m == nil {
		return 0, err
	}
	return m.OOMKillCount()
}

// Alive reports whether the container's process still runs.
func (r *Runtime) Alive(id string) bool {
	c, err := r.load(id)
	return err == nil && c.initAlive()
}

// ContainerSpec returns the spec a container was created with.
func (r *Runtime) ContainerSpec(id string) (*specs.Spec, error) {
	c, err := r.load(id)
	if err != nil {
		return nil, err
	}
	return c.State.Spec, nil
}
