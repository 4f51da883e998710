package engine

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strconv"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/network"
	"github.com/berth-project/berth/internal/store"
)

// ConnectOptions are `network connect`'s flags.
type ConnectOptions struct {
	Aliases []string // --alias
	IP      string   // --ip
}

// NetworkConnect connects a container to a network (`network connect`):
// its record names the network from now on, and a running container is
// attached at once on its next free interface (eth1, eth2, …), with the
// hosts files of its new peers rewritten. Only a container on bridge
// networks can join another (none, host and container: modes cannot).
func (e *Engine) NetworkConnect(ctx context.Context, netName, ctr string, o ConnectOptions) error {
	c, err := e.container(ctr)
	if err != nil {
		return err
	}
	n, err := e.networkFor(netName)
	if err != nil {
		return err
	}
	if len(c.Net.Networks) == 0 {
		return fmt.Errorf("container %s: network mode %s cannot join a network: %w", c.Name, c.Network, errdefs.ErrFailedPrecondition)
	}
	if n.Name == network.DefaultName && (len(o.Aliases) > 0 || o.IP != "") {
		return fmt.Errorf("--alias and --ip need a user network, not the default one: %w", errdefs.ErrInvalidArgument)
	}
	if err := checkStaticIP(n, o.IP); err != nil {
		return err
	}
	if err := checkNetworkFlags(NetworkOptions{Aliases: o.Aliases}); err != nil {
		return err
	}
	unlock, err := e.lockContainer(ctx, c.ID)
	if err != nil {
		return err
	}
	defer unlock()
	ep := Endpoint{Name: n.Name, ID: n.ID, Aliases: o.Aliases, IP: o.IP}
	if err := e.updateEndpoints(c.ID, func(c *Container) error {
		if c.connectedTo(n.Name) {
			return fmt.Errorf("container %s is already connected to network %s: %w", c.Name, n.Name, errdefs.ErrAlreadyExists)
		}
		c.Net.Networks = append(c.Net.Networks, ep)
		return nil
	}); err != nil {
		return err
	}
	if c, err = e.container(c.ID); err != nil {
		return err
	}
	st, attached, err := e.readNetState(c.ID)
	if err == nil && attached {
		err = e.attachOne(ctx, c, n, ep, st)
	}
	if err != nil {
		// Undo the record: the container did not join.
		_ = e.updateEndpoints(c.ID, func(c *Container) error {
			c.Net.Networks = slices.DeleteFunc(c.Net.Networks, func(x Endpoint) bool { return x.Name == n.Name })
			return nil
		})
		return err
	}
	return e.networkEvent(nil, n, "connect", "container", c.ID)
}

// attachOne attaches the running container c (attached as st) to one more
// network.
func (e *Engine) attachOne(ctx context.Context, c Container, n network.Network, ep Endpoint, st netState) error {
	m, err := e.netStage()
	if err != nil {
		return err
	}
	unlock, err := e.netLocks(ctx, true)
	if err != nil {
		return err
	}
	defer unlock()
	ifName := ""
	for i := 0; ifName == ""; i++ {
		name := "eth" + strconv.Itoa(i)
		if !slices.ContainsFunc(st.Attachments, func(a netAttachment) bool { return a.Result.Interface == name }) {
			ifName = name
		}
	}
	opts := network.Options{Aliases: ep.Aliases}
	if ep.IP != "" {
		opts.IP, _ = netip.ParseAddr(ep.IP) // checked
	}
	res, err := m.Attach(ctx, n, c.ID, c.NetNS, ifName, opts)
	if err != nil {
		m.RemoveIdle([]network.Network{n})
		return fmt.Errorf("container %s: %w", c.Name, err)
	}
	st.Attachments = append(st.Attachments, netAttachment{Network: n, Result: res})
	if err := e.writeNetState(c.ID, st); err != nil {
		m.Detach(context.WithoutCancel(ctx), n, c.ID, c.NetNS, ifName)
		return err
	}
	return e.writeHosts(c, st, true)
}

// DisconnectOptions are `network disconnect`'s flags.
type DisconnectOptions struct {
	Force bool // no error when the container is not connected
}

// NetworkDisconnect disconnects a container from a network (`network
// disconnect`): a running one is detached at once, and its record no
// longer names the network. A container left without a network keeps its
// namespace with loopback only (mode none).
func (e *Engine) NetworkDisconnect(ctx context.Context, netName, ctr string, o DisconnectOptions) error {
	c, err := e.container(ctr)
	if err != nil {
		return err
	}
	var n network.Network
	if err := e.db.View(func(tx *store.Tx) (err error) {
		n, err = lookupNetwork(tx, netName)
		return err
	}); err != nil {
		return err
	}
	unlock, err := e.lockContainer(ctx, c.ID)
	if err != nil {
		return err
	}
	defer unlock()
	if c, err = e.container(c.ID); err != nil {
		return err
	}
	if !c.connectedTo(n.Name) {
		if o.Force {
			return nil
		}
		return fmt.Errorf("container %s is not connected to network %s: %w", c.Name, n.Name, errdefs.ErrFailedPrecondition)
	}
	if err := e.detachOne(ctx, c, n); err != nil {
		return err
	}
	err = e.updateEndpoints(c.ID, func(c *Container) error {
		c.Net.Networks = slices.DeleteFunc(c.Net.Networks, func(x Endpoint) bool { return x.Name == n.Name })
		switch {
		case len(c.Net.Networks) == 0:
			c.Network = modeNone
			c.Net.Publish, c.Net.PublishAll = nil, false
		case c.Network == n.Name || c.Network == modeBridge && n.Name == network.DefaultName:
			c.Network = c.Net.Networks[0].Name
			if c.Network == network.DefaultName {
				c.Network = modeBridge
			}
		}
		return nil
	})
	return e.networkEvent(err, n, "disconnect", "container", c.ID)
}

// detachOne detaches a running container c from one network.
func (e *Engine) detachOne(ctx context.Context, c Container, n network.Network) error {
	st, ok, err := e.readNetState(c.ID)
	if err != nil || !ok {
		return err
	}
	i := slices.IndexFunc(st.Attachments, func(a netAttachment) bool { return a.Network.ID == n.ID })
	if i < 0 {
		return nil
	}
	a := st.Attachments[i]
	m, err := e.netStage()
	if err != nil {
		return err
	}
	unlock, err := e.netLocks(ctx, true)
	if err != nil {
		return err
	}
	defer unlock()
	if err := m.Detach(ctx, a.Network, c.ID, c.NetNS, a.Result.Interface); err != nil {
		return fmt.Errorf("container %s: %w", c.Name, err)
	}
	left := netState{Attachments: slices.Delete(slices.Clone(st.Attachments), i, i+1)}
	if len(left.Attachments) == 0 {
		if err := os.Remove(e.netStatePath(c.ID)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	} else if err := e.writeNetState(c.ID, left); err != nil {
		return err
	}
	if err := e.refreshPeers(c.ID, netState{Attachments: []netAttachment{a}}); err != nil {
		return err
	}
	if err := e.writeHosts(c, left, false); err != nil {
		return err
	}
	m.RemoveIdle([]network.Network{a.Network})
	return nil
}

// updateEndpoints changes container id's record with fn in one
// transaction.
func (e *Engine) updateEndpoints(id string, fn func(*Container) error) error {
	return e.db.Update(func(tx *store.Tx) error {
		c, err := store.Get[Container](tx, store.Containers, id)
		if err != nil {
			return err
		}
		if err := fn(&c); err != nil {
			return err
		}
		return store.Put(tx, store.Containers, id, c)
	})
}
