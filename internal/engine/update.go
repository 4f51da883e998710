package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/monitor"
	"github.com/berth-project/berth/internal/store"
)

// UpdateOptions are `berth update`'s flags; nil leaves a setting as it is.
type UpdateOptions struct {
	// Memory and MemorySwap are limits in bytes (-1: unlimited; swap is
	// memory plus swap, as docker's --memory-swap).
	Memory, MemorySwap *int64
	// CPUs becomes a CFS quota over a 100 ms period (0: no quota).
	CPUs       *float64
	CPUShares  *uint64
	CpusetCpus *string
	CpusetMems *string
	// PidsLimit: 0 or -1 unlimited.
	PidsLimit *int64
	// Restart is docker's --restart; it is recorded and takes effect when
	// the container next starts (its monitor keeps the policy it started
	// with).
	Restart *string
}

// IsZero reports whether o changes nothing.
func (o UpdateOptions) IsZero() bool { return o == UpdateOptions{} }

// Update changes the resource limits of the container the user's word s
// names: in its cgroup at once when it runs (the OCI runtime's update),
// and in its bundle's config.json for every later start.
func (e *Engine) Update(ctx context.Context, s string, o UpdateOptions) (Container, error) {
	if o.IsZero() {
		return Container{}, fmt.Errorf("update: you must provide one or more flags: %w", errdefs.ErrInvalidArgument)
	}
	c, err := e.container(s)
	if err != nil {
		return c, err
	}
	unlock, err := e.lockContainer(ctx, c.ID)
	if err != nil {
		return c, err
	}
	defer unlock()
	var policy monitor.RestartPolicy
	if o.Restart != nil {
		if policy, err = monitor.ParseRestartPolicy(*o.Restart); err != nil {
			return c, err
		}
		if c.AutoRemove && policy.Name != "" && policy.Name != "no" {
			return c, fmt.Errorf("restart policy cannot be updated because AutoRemove is enabled for the container %s: %w", c.Name, errdefs.ErrInvalidArgument)
		}
	}
	dir := e.containerDir(c.ID)
	sp, err := readSpec(dir)
	if err != nil {
		return c, err
	}
	if sp.Linux == nil {
		return c, fmt.Errorf("container %s: its spec has no linux section: %w", c.Name, errdefs.ErrFailedPrecondition)
	}
	cur := specs.LinuxResources{}
	if sp.Linux.Resources != nil {
		cur = *sp.Linux.Resources
	}
	change, err := resourceChange(cur, o)
	if err != nil {
		return c, err
	}
	if change != nil {
		if st := e.State(ctx, c); st.Running {
			if err := e.runtimeFor(c).Update(ctx, c.ID, change); err != nil {
				return c, fmt.Errorf("update %s: %w", c.Name, err)
			}
		}
		sp.Linux.Resources = applyResources(cur, change)
		if err := writeSpec(dir, sp); err != nil {
			return c, err
		}
	}
	if o.Restart != nil {
		err = e.db.Update(func(tx *store.Tx) error {
			r, err := store.Get[Container](tx, store.Containers, c.ID)
			if err != nil {
				return err
			}
			r.Restart = policy
			c = r
			return store.Put(tx, store.Containers, c.ID, c)
		})
	}
	return c, e.containerEvent(err, c, "update")
}

// resourceChange checks o against the container's current resources as
// docker's update does and returns the resources to change (nil: none).
func resourceChange(cur specs.LinuxResources, o UpdateOptions) (*specs.LinuxResources, error) {
	var ch specs.LinuxResources
	var curMem, curSwap int64
	if cur.Memory != nil {
		if cur.Memory.Limit != nil {
			curMem = *cur.Memory.Limit
		}
		if cur.Memory.Swap != nil {
			curSwap = *cur.Memory.Swap
		}
	}
	if o.Memory != nil || o.MemorySwap != nil {
		mem, swap := curMem, curSwap
		if o.Memory != nil {
			mem = *o.Memory
			if mem != -1 && mem < minMemory {
				return nil, fmt.Errorf("--memory %d: minimum memory limit allowed is 6MB: %w", mem, errdefs.ErrInvalidArgument)
			}
		}
		if o.MemorySwap != nil {
			swap = *o.MemorySwap
			if swap < -1 {
				return nil, fmt.Errorf("--memory-swap %d: want -1 (unlimited) or a size: %w", swap, errdefs.ErrInvalidArgument)
			}
			if swap > 0 && mem <= 0 {
				return nil, fmt.Errorf("--memory-swap: you should always set the memory limit when using memoryswap limit: %w", errdefs.ErrInvalidArgument)
			}
		}
		if o.Memory != nil && o.MemorySwap == nil && curSwap > 0 && mem > curSwap {
			return nil, fmt.Errorf("--memory %d: memory limit should be smaller than already set memoryswap limit %d, update the memoryswap at the same time: %w", mem, curSwap, errdefs.ErrInvalidArgument)
		}
		if swap > 0 && mem > 0 && swap < mem {
			return nil, fmt.Errorf("--memory-swap %d below --memory %d: minimum memoryswap limit should be larger than memory limit: %w", swap, mem, errdefs.ErrInvalidArgument)
		}
		ch.Memory = &specs.LinuxMemory{}
		if o.Memory != nil {
			ch.Memory.Limit = &mem
		}
		if o.MemorySwap != nil {
			ch.Memory.Swap = &swap
		}
	}
	if o.CPUs != nil || o.CPUShares != nil || o.CpusetCpus != nil || o.CpusetMems != nil {
		ch.CPU = &specs.LinuxCPU{}
		if o.CPUs != nil {
			n := *o.CPUs
			if math.IsNaN(n) || n < 0 || n > 1<<20 {
				return nil, fmt.Errorf("--cpus %v: want a positive number of CPUs: %w", n, errdefs.ErrInvalidArgument)
			}
			period, quota := uint64(cfsPeriod), int64(-1) // 0 CPUs: no quota
			if n > 0 {
				quota = int64(math.Round(n*1e9)) * cfsPeriod / 1e9
				if quota < 1000 {
					return nil, fmt.Errorf("--cpus %v: CPU cfs quota can not be less than 1ms (0.01 CPUs): %w", n, errdefs.ErrInvalidArgument)
				}
			}
			ch.CPU.Period, ch.CPU.Quota = &period, &quota
		}
		if o.CPUShares != nil {
			v := *o.CPUShares
			if v != 0 && v < 2 {
				return nil, fmt.Errorf("--cpu-shares %d: want 2 or more (0: the default): %w", v, errdefs.ErrInvalidArgument)
			}
			if v == 0 {
				v = 1024
			}
			ch.CPU.Shares = &v
		}
		for _, s := range []struct {
			flag string
			v    *string
			dst  *string
		}{{"--cpuset-cpus", o.CpusetCpus, &ch.CPU.Cpus}, {"--cpuset-mems", o.CpusetMems, &ch.CPU.Mems}} {
			if s.v == nil {
				continue
			}
			if *s.v == "" || strings.Trim(*s.v, "0123456789,-") != "" {
				return nil, fmt.Errorf("%s %q: want a list like 0-3,5: %w", s.flag, *s.v, errdefs.ErrInvalidArgument)
			}
			*s.dst = *s.v
		}
	}
	if o.PidsLimit != nil {
		v := *o.PidsLimit
		if v < -1 {
			return nil, fmt.Errorf("--pids-limit %d: want a number of processes, or 0 or -1 for unlimited: %w", v, errdefs.ErrInvalidArgument)
		}
		if v == 0 {
			v = -1
		}
		ch.Pids = &specs.LinuxPids{Limit: &v}
	}
	if ch.Memory == nil && ch.CPU == nil && ch.Pids == nil {
		return nil, nil
	}
	return &ch, nil
}

// applyResources merges the change into the spec's resources, as the
// runtime merges an update: what is set replaces, what is not stays;
// -1 (unlimited) is left out of the spec, as create leaves it.
func applyResources(cur specs.LinuxResources, ch *specs.LinuxResources) *specs.LinuxResources {
	unset := func(p **int64) {
		if *p != nil && **p == -1 {
			*p = nil
		}
	}
	if ch.Memory != nil {
		m := specs.LinuxMemory{}
		if cur.Memory != nil {
			m = *cur.Memory
		}
		if ch.Memory.Limit != nil {
			m.Limit = ch.Memory.Limit
		}
		if ch.Memory.Swap != nil {
			m.Swap = ch.Memory.Swap
		}
		unset(&m.Limit)
		unset(&m.Swap)
		cur.Memory = &m
		if m == (specs.LinuxMemory{}) {
			cur.Memory = nil
		}
	}
	if ch.CPU != nil {
		c := specs.LinuxCPU{}
		if cur.CPU != nil {
			c = *cur.CPU
		}
		if ch.CPU.Quota != nil {
			c.Quota, c.Period = ch.CPU.Quota, ch.CPU.Period
			unset(&c.Quota)
			if c.Quota == nil {
				c.Period = nil
			}
		}
		if ch.CPU.Shares != nil {
			c.Shares = ch.CPU.Shares
		}
		if ch.CPU.Cpus != "" {
			c.Cpus = ch.CPU.Cpus
		}
		if ch.CPU.Mems != "" {
			c.Mems = ch.CPU.Mems
		}
		cur.CPU = &c
	}
	if ch.Pids != nil {
		cur.Pids = ch.Pids
		if *ch.Pids.Limit == -1 {
			cur.Pids = nil
		}
	}
	return &cur
}

// readSpec reads the bundle's config.json in dir.
func readSpec(dir string) (*specs.Spec, error) {
	path := filepath.Join(dir, "config.json")
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var s specs.Spec
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &s, nil
}

// Docker's bounds, as internal/spec applies them at create.
const (
	minMemory = 6 << 20 // 6 MiB
	cfsPeriod = 100000  // µs
)
