package engine

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"

	"github.com/berth-project/berth/internal/monitor"
	"github.com/berth-project/berth/internal/network"
	"github.com/berth-project/berth/internal/store"
)

// Crash recovery for networks. A container whose monitor was killed (kill
// -9 of everything, a crash of the host's berth processes) keeps its
// attachments: its network.json, lease, veth and DNAT rules — which would
// also steal its published ports from the next container. Two kinds of
// leftovers, two cheap checks at every start (launch), and the full
// network.Manager.Reconcile in `system prune`:
//
//   - a network.json whose container's monitor is gone and which no start
//     holds (its container lock is free) and which does not run: detached
//     like any stopped container (detachNetworks);
//   - an attachment in the CNI cache (<runroot>/cni/cache/results/
//     <network>-<container id>-<ifname>) of a container that has no record
//     any more: Manager.Reconcile with every recorded container as live.

// cachedResultID finds the container ID in a libcni cache file name.
var cachedResultID = regexp.MustCompile(`-([0-9a-f]{64})-[^-]+$`)

// reconcileNetworks removes what crashed containers left on the networks
// (see above), sparing container self (whose own leftovers its start
// detaches). With full it runs the Manager's whole reconcile (leases,
// chains, rules and veths without a cache entry too) and removes the
// bridges no container uses. It returns one line per thing removed.
func (e *Engine) reconcileNetworks(ctx context.Context, self string, full bool) ([]string, error) {
	if e.rootlessNet() {
		return nil, nil // no bridge networks (yet)
	}
	states, err := e.netStates()
	if err != nil {
		return nil, err
	}
	var done []string
	var errs []error
	for id, st := range states {
		if id == self || pidAlive(filepath.Join(e.runDir(id), monitor.PidFile)) != 0 {
			continue
		}
		ok, err := e.detachCrashed(ctx, id, st)
		if err != nil {
			errs = append(errs, err)
		}
		if ok {
			done = append(done, "network attachments of container "+id)
		}
	}
	if !full {
		live, err := e.containerIDs()
		if err != nil || !e.strangersInCache(live) {
			return done, errors.Join(append(errs, err)...)
		}
	}
	left, nets, err := e.sweepNetworks(ctx)
	if err != nil {
		errs = append(errs, err)
	}
	if !left.Empty() {
		done = append(done, "network leftovers: "+left.String())
	}
	if full || !left.Empty() {
		if s, err := e.netStage(); err == nil {
			s.RemoveIdle(nets)
		}
	}
	return done, errors.Join(errs...)
}

// sweepNetworks runs the Manager's reconcile over every network, with
// every recorded container live, under the network lock held exclusively:
// an attachment under way would otherwise be taken for a leftover of a
// container that was recorded after live was read.
func (e *Engine) sweepNetworks(ctx context.Context) (network.Leftovers, []network.Network, error) {
	s, err := e.netStage()
	if err != nil {
		return network.Leftovers{}, nil, err
	}
	unlock, err := e.netLock(ctx, networkLockFile, true)
	if err != nil {
		return network.Leftovers{}, nil, err
	}
	defer unlock()
	var nets []network.Network
	if err := e.db.View(func(tx *store.Tx) (err error) {
		nets, err = store.List[network.Network](tx, store.Networks)
		return err
	}); err != nil {
		return network.Leftovers{}, nil, err
	}
	live, err := e.containerIDs()
	if err != nil {
		return network.Leftovers{}, nets, err
	}
	left, err := s.Reconcile(ctx, nets, live)
	return left, nets, err
}

// detachCrashed detaches the container whose network.json is st, if it is
// not at work: no start or removal holds its lock and it does not run.
func (e *Engine) detachCrashed(ctx context.Context, id string, st netState) (bool, error) {
	c, err := e.container(id)
	if err != nil {
		// No record: a removal that crashed after it deleted the record.
		c = Container{ID: id, Name: shortContainerID(id)}
	} else {
		try, cancel := context.WithCancel(ctx)
		cancel() // one attempt: a held lock means work in progress
		unlock, err := e.lockContainer(try, id)
		if err != nil {
			return false, nil
		}
		defer unlock()
		if s := e.State(ctx, c); s.Running || s.Restarting || s.MonitorPid != 0 {
			return false, nil
		}
	}
	if err := e.detachNetworks(ctx, c); err != nil {
		return false, err
	}
	return true, nil
}

// strangersInCache reports whether libcni's cache holds an attachment of a
// container that has no record.
func (e *Engine) strangersInCache(live map[string]bool) bool {
	ents, _ := os.ReadDir(filepath.Join(e.cfg.RunRoot, "cni", "cache", "results"))
	for _, ent := range ents {
		if m := cachedResultID.FindStringSubmatch(ent.Name()); m != nil && !live[m[1]] {
			return true
		}
	}
	return false
}

// networksBeforeStart readies the networks for a start of c: what crashed
// containers left goes (best effort: another container's trouble does not
// stop this one), and so do c's own attachments from a run that ended
// without its cleanup.
func (e *Engine) networksBeforeStart(ctx context.Context, c Container) error {
	_, _ = e.reconcileNetworks(ctx, c.ID, false)
	return e.detachNetworks(ctx, c)
}
