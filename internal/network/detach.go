package network

import (
	"context"
	"errors"
	"fmt"

	"github.com/containernetworking/cni/libcni"
	current "github.com/containernetworking/cni/pkg/types/100"
	"github.com/containernetworking/plugins/pkg/utils"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Detach undoes Attach (CNI DEL, with the configuration and port mappings
// the attachment was made with, from the CNI cache) and then removes what
// the plugins cannot when the namespace is already gone or the cache is
// lost. It is idempotent, and works with netnsPath gone, unmounted, or "".
//
// What CNI DEL cleans by itself: the veth (bridge, by deleting the
// container's interface — only while the namespace lives; the kernel
// deletes a veth whose namespace dies), the lease (host-local), the DNAT
// chain CNI-DN-… and its jump (portmap, given the mappings), the firewall
// plugin's CNI-FORWARD rules (given the cached result) and the masquerade
// chain (bridge — only while the namespace lives, since it learns the
// addresses from the interface). What Detach adds: the masquerade and DNAT
// chains of (network, container) by their names, CNI-FORWARD rules of the
// addresses the container held, its leases, and the host veth if the
// namespace outlives the attachment.
func (m *Manager) Detach(ctx context.Context, n Network, containerID, netnsPath, ifName string) error {
	if err := checkIDs(containerID, ifName); err != nil {
		return err
	}
	unlock, err := m.lock(false)
	if err != nil {
		return err
	}
	defer unlock()
	list, rt, err := m.cachedList(n, containerID, netnsPath, ifName)
	if err != nil {
		return err
	}
	return m.detach(ctx, n.Bridge, list, rt)
}

// detach runs CNI DEL with list and rt, then the extras.
func (m *Manager) detach(ctx context.Context, bridge string, list *libcni.NetworkConfigList, rt *libcni.RuntimeConf) error {
	containerID, ifName := rt.ContainerID, rt.IfName
	// What the extras need, read before DEL forgets it.
	var addrs []string
	hostVeth := ""
	if r, err := m.cni.GetNetworkListCachedResult(list, rt); err == nil && r != nil {
		if res, err := current.NewResultFromResult(r); err == nil {
			for _, itf := range res.Interfaces {
				if itf.Sandbox == "" && itf.Name != bridge {
					hostVeth = itf.Name
				}
			}
			for _, ipc := range res.IPs {
				if ipc.Address.IP.To4() != nil {
					addrs = append(addrs, ipc.Address.IP.To4().String())
				}
			}
		}
	}
	leases, _ := m.Leases(list.Name)
	var mine []Lease
	for _, l := range leases {
		if l.ContainerID == containerID && (l.IfName == ifName || l.IfName == "") {
			mine = append(mine, l)
			addrs = append(addrs, l.IP.String())
		}
	}

	var errs []error
	if err := m.cni.DelNetworkList(ctx, list, rt); err != nil {
		errs = append(errs, fmt.Errorf("network %q: container %s: cni del: %w", list.Name, containerID, err))
	}
	if err := m.releaseLeases(mine); err != nil {
		errs = append(errs, err)
	}
	if err := removeChains("nat", ownChains(list.Name, containerID)); err != nil {
		errs = append(errs, err)
	}
	if err := removeForwardRules(addrs); err != nil {
		errs = append(errs, err)
	}
	if hostVeth != "" {
		if err := deleteLink(hostVeth); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// cachedList is the configuration and runtime arguments an attachment was
// made with (from the CNI cache), or n's current ones without capability
// arguments when the cache has none. A netnsPath that is not a mounted
// network namespace is passed as "" (the plugins then skip the namespace).
func (m *Manager) cachedList(n Network, containerID, netnsPath, ifName string) (*libcni.NetworkConfigList, *libcni.RuntimeConf, error) {
	rt := &libcni.RuntimeConf{ContainerID: containerID, NetNS: netnsPath, IfName: ifName}
	if !isNetns(netnsPath) {
		rt.NetNS = ""
	}
	b, cachedRt, err := m.cni.GetNetworkListCachedConfig(&libcni.NetworkConfigList{Name: n.Name}, rt)
	if err == nil && b != nil {
		if list, err := libcni.NetworkConfFromBytes(b); err == nil {
			cachedRt.NetNS = rt.NetNS
			return list, cachedRt, nil
		}
	}
	list, err := m.configList(n)
	if err != nil {
		return nil, nil, err
	}
	return list, rt, nil
}

// ownChains are the nat chains the bridge (masquerade) and portmap (DNAT)
// plugins name after a container on a network.
func ownChains(network, containerID string) map[string]bool {
	return map[string]bool{
		utils.FormatChainName(network, containerID):                      true,
		utils.MustFormatChainNameWithPrefix(network, containerID, "DN-"): true,
	}
}

// removeForwardRules removes the firewall plugin's CNI-FORWARD rules of
// the addresses.
func removeForwardRules(addrs []string) error {
	if len(addrs) == 0 {
		return nil
	}
	want := map[string]bool{}
	for _, a := range addrs {
		want[a] = true
	}
	rules, _, err := saveTable("filter")
	if err != nil {
		return err
	}
	var cmds []string
	for _, r := range rules {
		if mm := forwardRule.FindStringSubmatch(r); mm != nil && want[mm[1]] {
			cmds = append(cmds, "-D"+r[2:])
		}
	}
	return restoreTable("filter", cmds)
}

// deleteLink deletes a host interface; one already gone is not an error.
func deleteLink(name string) error {
	l, err := netlink.LinkByName(name)
	if err != nil {
		var nf netlink.LinkNotFoundError
		if errors.As(err, &nf) {
			return nil
		}
		return fmt.Errorf("interface %s: %w", name, err)
	}
	if err := netlink.LinkDel(l); err != nil && !errors.Is(err, unix.ENODEV) {
		return fmt.Errorf("delete interface %s: %w", name, err)
	}
	return nil
}

// isNetns reports whether path is a mounted namespace (nsfs).
func isNetns(path string) bool {
	if path == "" {
		return false
	}
	var st unix.Statfs_t
	return unix.Statfs(path, &st) == nil && st.Type == unix.NSFS_MAGIC
}
