package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/network"
)

// Several roots on one host (a user's --root, tests) must not touch each
// other's networks. Their bridges differ (defaultBridge), their state
// directories differ (<runroot>/cni), and so must what the plugins write
// into the host's shared iptables tables: the plugins name a container's
// chains after the CNI network's name and comment its rules with it, and
// the Manager's reconcile recognises leftovers by that name. So every root
// but the default one gives the plugins its networks under a name of its
// own, "<name>.<8 hex digits of the root and the name>" (cniNetwork); the
// records, inspect and the hosts files keep the user's name.

// netStage is the network stage (network.Manager) as this root uses it:
// every network handed to it goes under its CNI name.
type netStage struct {
	m *network.Manager
	e *Engine
}

// netStage opens the network stage.
func (e *Engine) netStage() (netStage, error) {
	m, err := e.networkManager()
	return netStage{m: m, e: e}, err
}

// cniNetwork is n as the plugins see it in this root.
func (e *Engine) cniNetwork(n network.Network) network.Network {
	root := filepath.Clean(e.cfg.Root)
	if root == DefaultRoot {
		return n
	}
	sum := sha256.Sum256([]byte(root + "\x00" + n.Name))
	name := n.Name
	if len(name) > 55 {
		name = name[:55]
	}
	n.Name = name + "." + hex.EncodeToString(sum[:])[:8]
	return n
}

func (s netStage) Attach(ctx context.Context, n network.Network, id, netns, ifName string, o network.Options) (network.Result, error) {
	r, err := s.m.Attach(ctx, s.e.cniNetwork(n), id, netns, ifName, o)
	r.Network = n.Name
	return r, err
}

func (s netStage) Detach(ctx context.Context, n network.Network, id, netns, ifName string) error {
	return s.m.Detach(ctx, s.e.cniNetwork(n), id, netns, ifName)
}

// RemoveIdle removes the bridges of nets that no container is attached to
// any more (RemoveNetwork refuses, under the Manager's lock, while one is:
// that refusal is the common case and no error).
func (s netStage) RemoveIdle(nets []network.Network) {
	var seen []string
	for _, n := range nets {
		if slices.Contains(seen, n.ID) {
			continue
		}
		seen = append(seen, n.ID)
		_ = s.m.RemoveNetwork(s.e.cniNetwork(n)) // best effort: a bridge left is used again
	}
}

func (s netStage) RemoveNetwork(n network.Network) error {
	return s.m.RemoveNetwork(s.e.cniNetwork(n))
}

// Reconcile runs the Manager's reconcile over nets. The caller holds the
// network lock exclusively and computed live under it: no attachment is
// under way, and every container attached so far is in live.
func (s netStage) Reconcile(ctx context.Context, nets []network.Network, live map[string]bool) (network.Leftovers, error) {
	var cn []network.Network
	for _, n := range nets {
		cn = append(cn, s.e.cniNetwork(n))
	}
	return s.m.Reconcile(ctx, cn, live)
}

// The network locks, under the run root. network.lock is taken shared by
// every attach and detach and exclusively by a reconcile, which must see
// no attachment under way and every container that attached in its live
// set. ports.lock is taken exclusively by whoever needs a consistent view
// of every container's network.json: choosing host ports (no two
// containers may publish one port: a DNAT rule holds no socket for the
// kernel to refuse) and rewriting the hosts files of a user network. The
// order is: a container's lock, network.lock, ports.lock, the Manager's.
const (
	networkLockFile = "network.lock"
	portsLockFile   = "ports.lock"
)

// netLock takes one of the network locks; the returned func releases it.
func (e *Engine) netLock(ctx context.Context, name string, exclusive bool) (func(), error) {
	if err := os.MkdirAll(e.cfg.RunRoot, 0o700); err != nil {
		return nil, err
	}
	path := filepath.Join(e.cfg.RunRoot, name)
	if exclusive {
		return lockFile(ctx, path)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, err
	}
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_SH)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("flock %s: %w", path, err)
	}
	return func() { f.Close() }, nil
}

// netLocks takes network.lock shared and, with ports, ports.lock too.
func (e *Engine) netLocks(ctx context.Context, ports bool) (func(), error) {
	unlockNet, err := e.netLock(ctx, networkLockFile, false)
	if err != nil {
		return nil, err
	}
	if !ports {
		return unlockNet, nil
	}
	unlockPorts, err := e.netLock(ctx, portsLockFile, true)
	if err != nil {
		unlockNet()
		return nil, err
	}
	return func() { unlockPorts(); unlockNet() }, nil
}
