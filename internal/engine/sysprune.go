package engine

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/linux/mount"
	"github.com/berth-project/berth/internal/linux/netns"
	"github.com/berth-project/berth/internal/monitor"
	"github.com/berth-project/berth/internal/snapshot"
	"github.com/berth-project/berth/internal/store"
)

// SystemPruneOptions are `berth system prune`'s flags.
type SystemPruneOptions struct {
	All     bool // every image no container uses, not only dangling ones
	Volumes bool // anonymous volumes no container uses too
}

// SystemPruneResult says what a system prune removed.
type SystemPruneResult struct {
	Containers []string // IDs
	Networks   []string // names of user networks no container named
	Volumes    []string // names
	Images     PruneResult
	// Leftovers are what interrupted creates and removals left without a
	// container record, one line each ("netns <id>", "snapshot ctr-<id>"),
	// and what crashed containers left on the networks (leases, veths,
	// iptables chains and rules).
	Leftovers []string
	Reclaimed int64 // bytes, images' included
}

// leftoverGrace spares a container directory younger than this without
// a record: a create makes its directory a moment before it locks it.
const leftoverGrace = time.Minute

// SystemPrune removes stopped containers, user networks no container
// names, unused images (dangling ones, or all with o.All), with o.Volumes
// unused anonymous volumes, the leftovers of containers without a record,
// and what crashed containers left on the networks (Manager.Reconcile,
// then the bridges no container uses). Running containers and what they
// use are left alone.
func (e *Engine) SystemPrune(ctx context.Context, o SystemPruneOptions) (SystemPruneResult, error) {
	var res SystemPruneResult
	sizes := map[string]int64{}
	if cs, err := e.Containers(ctx, true, nil); err == nil {
		for _, c := range cs {
			if u, err := e.snap.Usage(ctx, c.Snapshot); err == nil {
				sizes[c.ID] = u.Size
			}
		}
	}
	var err error
	if res.Containers, err = e.PruneContainers(ctx); err != nil {
		return res, err
	}
	for _, id := range res.Containers {
		res.Reclaimed += sizes[id]
	}
	if o.Volumes {
		vsize := map[string]int64{}
		if vs, err := e.Volumes([]string{"dangling=true"}); err == nil {
			for _, v := range vs {
				vsize[v.Name] = dirSize(v.Mountpoint)
			}
		}
		if res.Volumes, err = e.PruneVolumes(ctx, false); err != nil {
			return res, err
		}
		for _, v := range res.Volumes {
			res.Reclaimed += vsize[v]
		}
	}
	left, n, err := e.pruneLeftovers(ctx)
	res.Leftovers, res.Reclaimed = left, res.Reclaimed+n
	if err != nil {
		return res, err
	}
	netLeft, err := e.reconcileNetworks(ctx, "", true)
	res.Leftovers = append(res.Leftovers, netLeft...)
	if err != nil {
		return res, err
	}
	if res.Networks, err = e.NetworkPrune(ctx); err != nil {
		return res, err
	}
	if res.Images, err = e.PruneImages(ctx, o.All); err != nil {
		return res, err
	}
	res.Reclaimed += res.Images.Reclaimed
	return res, nil
}

// pruneLeftovers removes, for every container ID found on disk without a
// record — its directory, run directory, network namespace file,
// snapshot ctr-<id>, or state in an OCI runtime's root — all of these.
// An ID whose directory is locked (a create or removal at work) or young
// (a create about to lock it) is left; the record is looked for again
// under the lock, as a create records its container before it unlocks.
func (e *Engine) pruneLeftovers(ctx context.Context) ([]string, int64, error) {
	var ids []string
	if err := e.db.View(func(tx *store.Tx) (err error) {
		ids, err = store.Keys(tx, store.Containers)
		return err
	}); err != nil {
		return nil, 0, err
	}
	found := map[string][]string{} // id → kinds of leftovers
	add := func(id, kind string) {
		if isContainerID(id) && !slices.Contains(ids, id) {
			found[id] = append(found[id], kind)
		}
	}
	for _, d := range []struct{ dir, kind string }{
		{filepath.Join(e.cfg.Root, "containers"), "directory"},
		{filepath.Join(e.cfg.RunRoot, "containers"), "run directory"},
		{filepath.Join(e.cfg.RunRoot, "netns"), "netns"},
	} {
		ents, _ := os.ReadDir(d.dir)
		for _, ent := range ents {
			add(ent.Name(), d.kind)
		}
	}
	runtimes, _ := os.ReadDir(filepath.Join(e.cfg.RunRoot, "runtime"))
	for _, rt := range runtimes {
		ents, _ := os.ReadDir(filepath.Join(e.cfg.RunRoot, "runtime", rt.Name()))
		for _, ent := range ents {
			add(ent.Name(), "runtime:"+rt.Name())
		}
	}
	if err := e.snap.Walk(ctx, func(i snapshot.Info) error {
		if id, ok := strings.CutPrefix(i.Key, "ctr-"); ok {
			add(id, "snapshot")
		}
		return nil
	}); err != nil {
		return nil, 0, err
	}
	var out []string
	var reclaimed int64
	var errs []error
	for id, kinds := range found {
		done, n, err := e.pruneLeftover(ctx, id, kinds)
		out = append(out, done...)
		reclaimed += n
		if err != nil {
			errs = append(errs, err)
		}
	}
	slices.Sort(out)
	return out, reclaimed, errors.Join(errs...)
}

// pruneLeftover removes what is left of container id (see pruneLeftovers).
func (e *Engine) pruneLeftover(ctx context.Context, id string, kinds []string) (done []string, reclaimed int64, err error) {
	dir := e.containerDir(id)
	if fi, err := os.Stat(dir); err == nil {
		if time.Since(fi.ModTime()) < leftoverGrace {
			return nil, 0, nil
		}
		try, cancel := context.WithCancel(ctx)
		cancel() // one attempt: a held lock means work in progress
		unlock, err := lockFile(try, filepath.Join(dir, "lock"))
		if err != nil {
			return nil, 0, nil
		}
		defer unlock()
	}
	if err := e.db.View(func(tx *store.Tx) error {
		_, err := store.Get[Container](tx, store.Containers, id)
		return err
	}); !errdefs.IsNotFound(err) {
		return nil, 0, err // recorded meanwhile, or the store failed
	}
	for _, k := range kinds {
		if name, ok := strings.CutPrefix(k, "runtime:"); ok {
			path, _, err := e.findRuntime(name)
			if err != nil {
				return done, reclaimed, fmt.Errorf("leftover %s of container %s: %w", k, shortContainerID(id), err)
			}
			c := Container{ID: id, Runtime: path, RuntimeName: name}
			if err := e.runtimeFor(c).Delete(ctx, id, true); err != nil && !errdefs.IsNotFound(err) {
				return done, reclaimed, fmt.Errorf("leftover state of container %s in %s: %w", shortContainerID(id), name, err)
			}
			os.RemoveAll(filepath.Join(e.runtimeRoot(name), id)) // a runtime that forgot it
			done = append(done, "runtime state "+name+" "+id)
		}
	}
	if err := mount.Unmount(e.rootfs(id)); err != nil {
		return done, reclaimed, err
	}
	if slices.Contains(kinds, "netns") {
		if err := netns.Remove(filepath.Join(e.cfg.RunRoot, "netns", id)); err != nil {
			return done, reclaimed, err
		}
		done = append(done, "netns "+id)
	}
	if slices.Contains(kinds, "snapshot") {
		if u, err := e.snap.Usage(ctx, "ctr-"+id); err == nil {
			reclaimed += u.Size
		}
		if err := e.snap.Remove(ctx, "ctr-"+id); err != nil && !errdefs.IsNotFound(err) {
			return done, reclaimed, fmt.Errorf("leftover snapshot ctr-%s: %w", id, err)
		}
		done = append(done, "snapshot ctr-"+id)
	}
	if slices.Contains(kinds, "run directory") {
		run := e.runDir(id)
		if pidAlive(filepath.Join(run, monitor.PidFile)) == 0 {
			if err := os.RemoveAll(run); err != nil {
				return done, reclaimed, err
			}
			done = append(done, "run directory "+run)
		}
	}
	if slices.Contains(kinds, "directory") {
		reclaimed += dirSize(dir)
		if err := os.RemoveAll(dir); err != nil {
			return done, reclaimed, err
		}
		done = append(done, "directory "+dir)
	}
	return done, reclaimed, nil
}

// isContainerID reports whether s is a 64-hex container ID.
func isContainerID(s string) bool {
	if len(s) != 64 {
		return false
	}
	return strings.Trim(s, "0123456789abcdef") == ""
}

// dirSize adds up the sizes of the regular files below dir.
func dirSize(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}
