package cgroups

import "github.com/opencontainers/cgroups"

// Mode is the cgroup layout of the host.
type Mode int

// The host layouts.
const (
	// Legacy hosts have only cgroup v1 controllers.
	Legacy Mode = iota
	// Hybrid hosts have v1 controllers plus a controller-less cgroup2 tree at
	// /sys/fs/cgroup/unified.
	Hybrid
	// Unified hosts have only cgroup v2, mounted at /sys/fs/cgroup.
	Unified
)

// String returns the lowercase name of the mode.
func (m Mode) String() string {
	switch m {
	case Legacy:
		return "legacy"
	case Hybrid:
		return "hybrid"
	case Unified:
		return "unified"
	}
	return "unknown"
}

// HostMode reports the cgroup layout of this host (computed once).
func HostMode() Mode {
	switch {
	case cgroups.IsCgroup2UnifiedMode():
		return Unified
	case cgroups.IsCgroup2HybridMode():
		return Hybrid
	}
	return Legacy
}
