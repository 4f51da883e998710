package cgroups

import (
	"fmt"

	"github.com/opencontainers/cgroups"
)

// Freeze stops every process of the container (freezer.state FROZEN on v1,
// cgroup.freeze 1 on v2) and returns once they are frozen.
func (m *Manager) Freeze() error {
	if err := m.lib.Freeze(cgroups.Frozen); err != nil {
		return fmt.Errorf("freeze cgroup %s: %w", m.freezerPath(), err)
	}
	return nil
}

// Thaw resumes the processes that Freeze stopped.
func (m *Manager) Thaw() error {
	if err := m.lib.Freeze(cgroups.Thawed); err != nil {
		return fmt.Errorf("thaw cgroup %s: %w", m.freezerPath(), err)
	}
	return nil
}

// FreezerState returns "FROZEN", "THAWED", or "" when the container has no
// freezer cgroup. It waits out a freeze in progress; a cgroup frozen only by
// an ancestor reads "THAWED" (as in runc).
func (m *Manager) FreezerState() (string, error) {
	s, err := m.lib.GetFreezerState()
	if err != nil {
		return "", fmt.Errorf("read freezer state of %s: %w", m.freezerPath(), err)
	}
	return string(s), nil
}

func (m *Manager) freezerPath() string {
	if m.mode == Unified {
		return m.Path("")
	}
	return m.Path("freezer")
}
