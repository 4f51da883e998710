package cgroups

import (
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/opencontainers/cgroups"
	// The devices package registers the v1 device emulator and the v2 eBPF
	// filter with the library (cgroups.DevicesSetV1/V2); without it the
	// library refuses device rules.
	_ "github.com/opencontainers/cgroups/devices"
	"github.com/opencontainers/cgroups/fs"
	"github.com/opencontainers/cgroups/fs2"

	"github.com/berth-project/berth/internal/errdefs"
)

// root is where the cgroup hierarchies are mounted.
const root = "/sys/fs/cgroup"

// Manager owns the cgroup(s) of one container: one dir per v1 controller (plus
// the cgroup2 dir on a hybrid host), or the single dir of a unified host.
type Manager struct {
	mode     Mode
	rootless bool
	lib      cgroups.Manager // *fs.Manager (v1, hybrid) or *fs2.Manager (v2)
	// unjoined: rootless on a v2 host, Apply could not create or join the
	// cgroup, so Set has nothing to write to.
	unjoined bool

	mu       sync.Mutex
	warnings []string
}

// New returns the Manager of container id for the OCI cgroupsPath (see
// resolvePath for the rules). It creates nothing; Apply does. When rootless,
// cgroups that cannot be created or joined for lack of permission become
// Warnings instead of errors.
func New(cgroupsPath, id string, rootless bool) (*Manager, error) {
	p, err := resolvePath(cgroupsPath, id)
	if err != nil {
		return nil, err
	}
	mode := HostMode()
	if mode == Unified {
		return newManager(mode, map[string]string{"": filepath.Join(root, p)}, rootless)
	}
	// Let the library find each controller's mount (co-mounted controllers
	// such as "cpu,cpuacct" share a dir, hybrid hosts add the "" key).
	probe, err := fs.NewManager(&cgroups.Cgroup{Path: p, Resources: &cgroups.Resources{}}, nil)
	if err != nil {
		return nil, fmt.Errorf("cgroup %s: find the v1 controllers: %w", p, err)
	}
	return newManager(mode, probe.GetPaths(), rootless)
}

// Load returns the Manager of an existing container from the paths its
// Manager's Paths returned when it was created.
func Load(paths map[string]string, rootless bool) (*Manager, error) {
	if len(paths) == 0 {
		return nil, fmt.Errorf("load cgroup paths: no paths: %w", errdefs.ErrInvalidArgument)
	}
	for k, p := range paths {
		if !filepath.IsAbs(p) || filepath.Clean(p) != p || !strings.HasPrefix(p, root+"/") {
			return nil, fmt.Errorf("load cgroup paths: %q path %q is not a clean path under %s: %w", k, p, root, errdefs.ErrInvalidArgument)
		}
	}
	mode := HostMode()
	if _, ok := paths[""]; mode == Unified && (len(paths) != 1 || !ok) {
		return nil, fmt.Errorf("load cgroup paths: want the single unified path \"\" on a cgroup v2 host, got %v: %w", paths, errdefs.ErrInvalidArgument)
	}
	return newManager(mode, maps.Clone(paths), rootless)
}

func newManager(mode Mode, paths map[string]string, rootless bool) (*Manager, error) {
	// The library tolerates permission errors only for rootless cgroups
	// without an explicit Path; the paths are explicit here instead.
	cfg := &cgroups.Cgroup{Resources: &cgroups.Resources{}, Rootless: rootless}
	var (
		lib cgroups.Manager
		err error
	)
	if mode == Unified {
		lib, err = fs2.NewManager(cfg, paths[""])
	} else {
		lib, err = fs.NewManager(cfg, paths)
	}
	if err != nil {
		return nil, fmt.Errorf("cgroup manager for %v: %w", paths, err)
	}
	return &Manager{mode: mode, rootless: rootless, lib: lib}, nil
}

// Apply creates the cgroup dirs (keeping existing ones) and moves pid into
// them; pid -1 only creates them. On error some dirs may exist: the caller's
// rollback calls Destroy.
func (m *Manager) Apply(pid int) error {
	before := m.Paths()
	err := m.lib.Apply(pid)
	if errors.Is(err, cgroups.ErrRootless) || (m.rootless && err != nil && m.mode == Unified) {
		m.unjoined = m.mode == Unified
		m.warn(fmt.Sprintf("rootless: could not create or join cgroups %s: %v", m.missing(before), err))
		return nil
	}
	if err != nil {
		return fmt.Errorf("apply cgroup %s to pid %d: %w", m.describe(), pid, err)
	}
	return nil
}

// missing lists the controllers of before that the manager no longer has.
func (m *Manager) missing(before map[string]string) string {
	if m.mode == Unified {
		return before[""]
	}
	now := m.Paths()
	var names []string
	for k := range before {
		if _, ok := now[k]; !ok {
			names = append(names, fmt.Sprintf("%q", k))
		}
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// Paths returns the absolute dir of each controller: v1 controller names
// (plus "" for the cgroup2 dir of a hybrid host), or just "" on a v2 host.
func (m *Manager) Paths() map[string]string { return maps.Clone(m.lib.GetPaths()) }

// Path returns the absolute dir of one controller ("" when it has none); on
// a v2 host every controller shares the one dir.
func (m *Manager) Path(controller string) string { return m.lib.Path(controller) }

// Pids returns the pids in the container's cgroup and its sub-cgroups.
func (m *Manager) Pids() ([]int, error) {
	pids, err := m.lib.GetAllPids()
	if err != nil {
		return nil, fmt.Errorf("list pids of cgroup %s: %w", m.describe(), err)
	}
	return pids, nil
}

// Destroy removes the container's cgroup dirs (and any sub-cgroups), waiting
// briefly on EBUSY while the last processes exit. Dirs already gone are fine.
func (m *Manager) Destroy() error {
	desc := m.describe()
	if err := m.lib.Destroy(); err != nil {
		return fmt.Errorf("remove cgroup %s: %w", desc, err)
	}
	return nil
}

// OOMKillCount returns how many processes the kernel's OOM killer has killed
// in the container's memory cgroup.
func (m *Manager) OOMKillCount() (uint64, error) {
	n, err := m.lib.OOMKillCount()
	if err != nil {
		return 0, fmt.Errorf("read oom kill count of %s: %w", m.Path("memory"), err)
	}
	return n, nil
}

// Warnings returns what could not be applied and was not an error: cgroups a
// rootless container could not create or join, and settings that are
// accepted but ignored (kernel memory; v1-only settings on a v2 host).
func (m *Manager) Warnings() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.warnings)
}

func (m *Manager) warn(w string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !slices.Contains(m.warnings, w) {
		m.warnings = append(m.warnings, w)
	}
}

// describe names the cgroup in messages: the unified dir, or the memory (else
// devices) dir on v1.
func (m *Manager) describe() string {
	if m.mode == Unified {
		return m.Path("")
	}
	for _, c := range []string{"memory", "devices", ""} {
		if p := m.Path(c); p != "" {
			return p
		}
	}
	return fmt.Sprint(m.Paths())
}
