package engine

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/linux/mount"
	"github.com/berth-project/berth/internal/linux/netns"
	"github.com/berth-project/berth/internal/monitor"
	"github.com/berth-project/berth/internal/store"
	"github.com/berth-project/berth/internal/volume"
)

// RemoveOptions tune a container's removal.
type RemoveOptions struct {
	Force   bool // kill a running container first
	Volumes bool // remove its anonymous volumes too
}

// RemoveContainer deletes the container the user's word s names, with its
// root filesystem, namespace, files and record. A running container needs
// Force.
func (e *Engine) RemoveContainer(ctx context.Context, s string, o RemoveOptions) (Container, error) {
	c, err := e.container(s)
	if err != nil {
		return c, err
	}
	if st := e.State(ctx, c); st.Running || st.Restarting || st.MonitorPid != 0 && st.Status != StatusExited {
		if !o.Force {
			return c, fmt.Errorf("cannot remove container %s: it is %s: stop it first or use --force: %w", c.Name, st.Status, errdefs.ErrFailedPrecondition)
		}
		if _, err := e.Stop(ctx, c.ID, 0); err != nil {
			return c, err
		}
	}
	run := e.runDir(c.ID)
	mon := pidAlive(filepath.Join(run, monitor.PidFile))
	if err := e.removeContainer(ctx, c, o.Volumes); err != nil {
		return c, err
	}
	if mon != 0 {
		// The monitor may still be running its exit command: once rm
		// returns, nothing of the container is left, processes included.
		wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_ = waitProcessExit(wctx, mon, run)
		cancel()
	}
	return c, nil
}

// removeContainer undoes everything Create and Start made for c.
func (e *Engine) removeContainer(ctx context.Context, c Container, volumes bool) error {
	unlock, err := e.lockContainer(ctx, c.ID)
	if errdefs.IsNotFound(err) {
		return nil // removed meanwhile (--rm's cleanup and rm -f racing)
	}
	if err != nil {
		return err
	}
	defer unlock()
	// Again under the lock: a start may have run since the caller looked.
	if st := e.State(ctx, c); st.Running || st.Restarting {
		return fmt.Errorf("cannot remove container %s: it is %s: stop it first or use --force: %w", c.Name, st.Status, errdefs.ErrFailedPrecondition)
	}
	if err := e.teardown(ctx, c); err != nil {
		return err
	}
	if err := e.snap.Remove(ctx, c.Snapshot); err != nil && !errdefs.IsNotFound(err) {
		return fmt.Errorf("remove the root filesystem of %s: %w", c.Name, err)
	}
	if c.NetNS != "" {
		if err := netns.Remove(c.NetNS); err != nil {
			return err
		}
	}
	err = e.db.Update(func(tx *store.Tx) error {
		// c was read before the lock: a rename meanwhile gave the
		// container another name, and its old one may be another
		// container's now. Release the name the record holds, if ours.
		if cur, err := store.Get[Container](tx, store.Containers, c.ID); err == nil {
			c.Name = cur.Name
		}
		if err := store.Delete(tx, store.Containers, c.ID); err != nil && !errdefs.IsNotFound(err) {
			return err
		}
		if owner, err := tx.Owner(nameKind, c.Name); err == nil && owner == c.ID {
			if err := tx.Release(nameKind, c.Name); err != nil {
				return err
			}
		}
		if volumes {
			vols := volume.New(e.volumesDir())
			for _, m := range c.Mounts {
				if m.Type != "volume" {
					continue
				}
				// The volume's record says whether it is anonymous: the
				// container's record does not keep MountPoint.Anonymous.
				if v, err := vols.Get(tx, m.Name); err != nil || !v.Anonymous {
					continue
				}
				if err := vols.Remove(tx, m.Name); err != nil && !errdefs.IsNotFound(err) {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := os.RemoveAll(e.runDir(c.ID)); err != nil {
		return err
	}
	return e.containerEvent(os.RemoveAll(e.containerDir(c.ID)), c, "destroy")
}

// teardown releases what a run of c holds once it is done: the runtime's
// record, its network attachments and the rootfs mount.
func (e *Engine) teardown(ctx context.Context, c Container) error {
	if err := e.runtimeFor(c).Delete(ctx, c.ID, true); err != nil && !errdefs.IsNotFound(err) {
		return fmt.Errorf("delete %s from its runtime: %w", c.Name, err)
	}
	if err := e.detachNetworks(ctx, c); err != nil {
		return err
	}
	return mount.Unmount(e.rootfs(c.ID))
}

// Cleanup is what a container's monitor runs once the container is done
// (Config.CleanupCommand): the runtime's record and the rootfs mount go,
// and with --rm the whole container (and its anonymous volumes).
func (e *Engine) Cleanup(ctx context.Context, id string) error {
	c, err := e.container(id)
	if errdefs.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if st := e.State(ctx, c); st.Status != StatusExited {
		return nil // restarted meanwhile (docker start after the exit)
	}
	e.die(ctx, c)
	if c.AutoRemove {
		return e.removeContainer(ctx, c, true)
	}
	unlock, err := e.lockContainer(ctx, c.ID)
	if err != nil {
		return err
	}
	defer unlock()
	if st := e.State(ctx, c); st.Status != StatusExited {
		return nil
	}
	return e.teardown(ctx, c)
}
