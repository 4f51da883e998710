package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/network"
	"github.com/berth-project/berth/internal/store"
)

// A container on networks is attached at each start, after its network
// namespace exists and before its monitor runs (launch), and detached when
// it is done (teardown: the monitor's exit command, rm). What the
// attachments gave it — addresses, gateway, MAC, the host ports chosen —
// is written to <runroot>/containers/<id>/network.json, which exists
// exactly while the container holds attachments: inspect, port, ps and
// the peers' hosts files read it, and Detach needs the network records it
// keeps even if a record changes.
// The locks they take are netstage.go's.

// netState is network.json.
type netState struct {
	Attachments []netAttachment `json:"attachments"`
	// Slirp is the container's slirp4netns (--network slirp4netns).
	Slirp *slirpAttachment `json:"slirp4netns,omitempty"`
}

// netAttachment is one network of a running container.
type netAttachment struct {
	// Network is the record the attachment was made with.
	Network network.Network `json:"network"`
	Result  network.Result  `json:"result"`
}

const netStateFile = "network.json"

func (e *Engine) netStatePath(id string) string { return filepath.Join(e.runDir(id), netStateFile) }

// readNetState reads a container's network.json; ok is false when it has
// none (no attachment).
func (e *Engine) readNetState(id string) (st netState, ok bool, err error) {
	b, err := os.ReadFile(e.netStatePath(id))
	if errors.Is(err, os.ErrNotExist) {
		return st, false, nil
	}
	if err != nil {
		return st, false, err
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return st, false, fmt.Errorf("%s: %w", e.netStatePath(id), err)
	}
	return st, true, nil
}

// writeNetState writes network.json atomically.
func (e *Engine) writeNetState(id string, st netState) error {
	b, err := json.MarshalIndent(st, "", "\t")
	if err != nil {
		return err
	}
	tmp := e.netStatePath(id) + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, e.netStatePath(id))
}

// netStates reads every container's network.json, by container ID.
func (e *Engine) netStates() (map[string]netState, error) {
	paths, err := filepath.Glob(filepath.Join(e.cfg.RunRoot, "containers", "*", netStateFile))
	if err != nil {
		return nil, err
	}
	out := map[string]netState{}
	for _, p := range paths {
		id := filepath.Base(filepath.Dir(p))
		st, ok, err := e.readNetState(id)
		if err != nil {
			return nil, err
		}
		if ok {
			out[id] = st
		}
	}
	return out, nil
}

// onUserNetwork reports whether any network of c's is not the default one.
func (c Container) onUserNetwork() bool {
	for _, ep := range c.Net.Networks {
		if ep.Name != network.DefaultName {
			return true
		}
	}
	return false
}

// publishes reports whether c publishes ports.
func (c Container) publishes() bool { return len(c.Net.Publish) > 0 || c.Net.PublishAll }

// attachNetworks attaches c to its networks (eth0, eth1, … in order), with
// its published ports on the first, writes network.json and the hosts
// files, or fails with nothing attached.
func (e *Engine) attachNetworks(ctx context.Context, c Container) (err error) {
	if c.Network == modeSlirp {
		return e.attachSlirp(ctx, c)
	}
	if len(c.Net.Networks) == 0 {
		return nil
	}
	if e.rootlessNet() {
		return rootlessNetworking("container " + c.Name)
	}
	nets, err := e.endpointNetworks(c)
	if err != nil {
		return err
	}
	m, err := e.netStage()
	if err != nil {
		return err
	}
	unlock, err := e.netLocks(ctx, c.publishes() || c.onUserNetwork())
	if err != nil {
		return err
	}
	defer unlock()
	ports, err := e.resolvePorts(c)
	if err != nil {
		return fmt.Errorf("container %s: %w", c.Name, err)
	}
	var st netState
	defer func() {
		if err != nil {
			ctx := context.WithoutCancel(ctx)
			for i := len(st.Attachments) - 1; i >= 0; i-- {
				a := st.Attachments[i]
				m.Detach(ctx, a.Network, c.ID, c.NetNS, a.Result.Interface)
			}
			os.Remove(e.netStatePath(c.ID))
			m.RemoveIdle(nets)
		}
	}()
	for i, ep := range c.Net.Networks {
		opts := network.Options{Aliases: ep.Aliases, MAC: ep.MAC}
		if ep.IP != "" {
			if opts.IP, err = netip.ParseAddr(ep.IP); err != nil {
				return fmt.Errorf("container %s: --ip %q: %w", c.Name, ep.IP, errdefs.ErrInvalidArgument)
			}
		}
		if i == 0 {
			opts.PortMappings = ports
		}
		res, err := m.Attach(ctx, nets[i], c.ID, c.NetNS, "eth"+strconv.Itoa(i), opts)
		if err != nil {
			return fmt.Errorf("container %s: %w", c.Name, err)
		}
		st.Attachments = append(st.Attachments, netAttachment{Network: nets[i], Result: res})
	}
	if err := e.writeNetState(c.ID, st); err != nil {
		return err
	}
	return e.writeHosts(c, st, c.onUserNetwork())
}

// endpointNetworks are the records of c's networks, in order.
func (e *Engine) endpointNetworks(c Container) ([]network.Network, error) {
	var nets []network.Network
	err := e.db.View(func(tx *store.Tx) error {
		for _, ep := range c.Net.Networks {
			n, err := store.Get[network.Network](tx, store.Networks, ep.Name)
			if err == nil && ep.ID != "" && n.ID != ep.ID {
				err = fmt.Errorf("network %s was removed and made again: %w", ep.Name, errdefs.ErrNotFound)
			}
			if errdefs.IsNotFound(err) {
				return fmt.Errorf("container %s: network %s not found (removed since the container joined it): %w", c.Name, ep.Name, errdefs.ErrNotFound)
			}
			if err != nil {
				return err
			}
			nets = append(nets, n)
		}
		return nil
	})
	return nets, err
}

// detachNetworks undoes attachNetworks (teardown, rm, and a start after a
// crash): every attachment of network.json is detached, then the file
// goes, the peers' hosts files forget c, and bridges left without a
// container go. Without network.json, what libcni's cache holds for c (a
// start killed between the plugins and network.json) is detached. On
// error network.json stays, for the next try.
func (e *Engine) detachNetworks(ctx context.Context, c Container) error {
	st, ok, err := e.readNetState(c.ID)
	if err != nil {
		return err
	}
	if !ok {
		if st, err = e.cachedAttachments(c.ID); err != nil || len(st.Attachments) == 0 {
			return err
		}
	}
	if st.Slirp != nil {
		if err := e.detachSlirp(st); err != nil {
			return fmt.Errorf("container %s: %w", shortContainerID(c.ID), err)
		}
		if len(st.Attachments) == 0 {
			if err := os.Remove(e.netStatePath(c.ID)); err != nil && !errors.Is(err, os.ErrNotExist) {
				return err
			}
			return nil
		}
	}
	m, err := e.netStage()
	if err != nil {
		return err
	}
	user := false
	for _, a := range st.Attachments {
		user = user || a.Network.Name != network.DefaultName
	}
	unlock, err := e.netLocks(ctx, user)
	if err != nil {
		return err
	}
	defer unlock()
	nsPath := c.NetNS
	if nsPath == "" {
		nsPath = filepath.Join(e.cfg.RunRoot, "netns", c.ID)
	}
	var errs []error
	var nets []network.Network
	for i := len(st.Attachments) - 1; i >= 0; i-- {
		a := st.Attachments[i]
		nets = append(nets, a.Network)
		if err := m.Detach(ctx, a.Network, c.ID, nsPath, a.Result.Interface); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("container %s: detach from its networks: %w", shortContainerID(c.ID), errors.Join(errs...))
	}
	if err := os.Remove(e.netStatePath(c.ID)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if user {
		if err := e.refreshPeers(c.ID, st); err != nil {
			return err
		}
	}
	m.RemoveIdle(nets)
	return nil
}

// resolvePorts chooses the host ports of c's -p and -P for this start:
// free on the host and published by no other container of this root.
// Ports the kernel chose are chosen again when another container publishes
// them (its DNAT rule holds no socket); ports the user gave fail.
func (e *Engine) resolvePorts(c Container) ([]network.PortMapping, error) {
	if !c.publishes() {
		return nil, nil
	}
	states, err := e.netStates()
	if err != nil {
		return nil, err
	}
	var others []network.PortMapping
	owner := map[string][]network.PortMapping{}
	for id, st := range states {
		if id == c.ID {
			continue
		}
		owner[id] = attachedPorts(st)
		others = append(others, owner[id]...)
	}
	auto := c.Net.PublishAll
	for _, sp := range c.Net.Publish {
		auto = auto || sp.HostPorts == (network.PortRange{})
	}
	for attempt := 1; ; attempt++ {
		ms, err := network.Resolve(c.Net.Publish)
		if err != nil {
			return nil, err
		}
		if c.Net.PublishAll {
			all, err := network.PublishAll(unpublished(c.Config.ExposedPorts, ms), "")
			if err != nil {
				return nil, err
			}
			ms = append(ms, all...)
		}
		err = network.Conflicts(ms, others)
		if err == nil {
			return ms, nil
		}
		if !auto || attempt == 5 {
			for id, theirs := range owner {
				if network.Conflicts(ms, theirs) != nil {
					return nil, fmt.Errorf("%w: by container %s", err, e.containerName(id))
				}
			}
			return nil, err
		}
	}
}

// containerName is the name of container id, or its short ID.
func (e *Engine) containerName(id string) string {
	if c, err := e.container(id); err == nil {
		return c.Name
	}
	return shortContainerID(id)
}

// unpublished are the exposed ports ("80/tcp") that no mapping of ms
// publishes already: -p wins over -P for a port.
func unpublished(exposed []string, ms []network.PortMapping) []string {
	var out []string
	for _, x := range exposed {
		port, proto, _ := strings.Cut(x, "/")
		if proto == "" {
			proto = "tcp"
		}
		taken := false
		for _, m := range ms {
			taken = taken || strconv.Itoa(int(m.ContainerPort)) == port && m.Protocol == proto
		}
		if !taken {
			out = append(out, x)
		}
	}
	return out
}

// cachedAttachments are the attachments libcni's cache holds for
// container id (files <network>-<id>-<ifname>), with the records of
// their networks; those whose network has no record are left to the
// reconcile.
func (e *Engine) cachedAttachments(id string) (netState, error) {
	var st netState
	ents, err := os.ReadDir(filepath.Join(e.cfg.RunRoot, "cni", "cache", "results"))
	if err != nil || len(ents) == 0 {
		return st, nil
	}
	var nets []network.Network
	if err := e.db.View(func(tx *store.Tx) (err error) {
		nets, err = store.List[network.Network](tx, store.Networks)
		return err
	}); err != nil {
		return st, err
	}
	for _, ent := range ents {
		name, ifName, ok := strings.Cut(ent.Name(), "-"+id+"-")
		if !ok {
			continue
		}
		for _, n := range nets {
			if e.cniNetwork(n).Name == name {
				st.Attachments = append(st.Attachments, netAttachment{Network: n, Result: network.Result{Network: n.Name, Interface: ifName}})
			}
		}
	}
	return st, nil
}
