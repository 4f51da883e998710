package network

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/vishvananda/netlink"

	"github.com/berth-project/berth/internal/errdefs"
)

// RemoveNetwork removes what a network left on the host once no container
// is attached (`network rm`): its bridge, the firewall plugin's isolation
// rules that name the bridge (CNI-ISOLATION-STAGE-1/2, which the plugin
// never removes because other containers may share the bridge) and its
// lease directory. A network that still has an attachment (a lease, or a
// veth on the bridge) is errdefs.ErrFailedPrecondition and nothing is
// removed. The record is the engine's to delete.
func (m *Manager) RemoveNetwork(n Network) error {
	unlock, err := m.lock(true)
	if err != nil {
		return err
	}
	defer unlock()
	leases, err := m.Leases(n.Name)
	if err != nil {
		return err
	}
	if len(leases) > 0 {
		return fmt.Errorf("network %q: in use by container %s (%s): %w", n.Name, leases[0].ContainerID, leases[0].IP, errdefs.ErrFailedPrecondition)
	}
	br, err := netlink.LinkByName(n.Bridge)
	var nf netlink.LinkNotFoundError
	if err != nil && !errors.As(err, &nf) {
		return fmt.Errorf("network %q: bridge %s: %w", n.Name, n.Bridge, err)
	}
	if br != nil {
		links, err := netlink.LinkList()
		if err != nil {
			return fmt.Errorf("list interfaces: %w", err)
		}
		for _, l := range links {
			if l.Attrs().MasterIndex == br.Attrs().Index {
				return fmt.Errorf("network %q: interface %s is still on bridge %s: %w", n.Name, l.Attrs().Name, n.Bridge, errdefs.ErrFailedPrecondition)
			}
		}
	}
	if err := removeIsolationRules(n.Bridge); err != nil {
		return err
	}
	if br != nil {
		if err := netlink.LinkDel(br); err != nil {
			return fmt.Errorf("network %q: delete bridge %s: %w", n.Name, n.Bridge, err)
		}
	}
	if err := os.RemoveAll(m.leaseDir(n.Name)); err != nil {
		return fmt.Errorf("network %q: leases: %w", n.Name, err)
	}
	return nil
}

// removeIsolationRules removes the rules of the firewall plugin's
// isolation chains that match the bridge as input or output device.
func removeIsolationRules(bridge string) error {
	rules, _, err := saveTable("filter")
	if err != nil {
		return err
	}
	var cmds []string
	for _, r := range rules {
		if !strings.HasPrefix(ruleChain(r), "CNI-ISOLATION-STAGE-") {
			continue
		}
		f := strings.Fields(r)
		for i := 0; i+1 < len(f); i++ {
			if (f[i] == "-i" || f[i] == "-o") && f[i+1] == bridge {
				cmds = append(cmds, "-D"+r[2:])
				break
			}
		}
	}
	return restoreTable("filter", cmds)
}
