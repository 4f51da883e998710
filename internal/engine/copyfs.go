package engine

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"path"
	"slices"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/linux/mount"
	"github.com/berth-project/berth/internal/linux/ns"
	"github.com/berth-project/berth/internal/linux/pathrs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// containerFS returns a handle on c's file system as its processes see
// it — the root filesystem with the bind mounts of its spec on it: volumes,
// -v and --mount binds, and the hosts, hostname and resolv.conf files
// (not its tmpfs, proc or sys mounts, whose contents only the container
// sees), as docker's cp sees them —
// as a detached mount tree: pathrs.FdPath(f) is its "/", from any thread.
// Closing f drops the tree; nothing is mounted where the host (or the
// container) sees it, so a berth killed mid-copy leaves no mount.
//
// The tree is put together in a mount namespace of its own, on a thread
// thrown away afterwards: the running container's rootfs mount (or, for
// a container that does not run, its snapshot mounted there for the
// moment), each volume and bind cloned onto its destination — resolved
// inside the rootfs with pathrs, so a symlink the container planted
// cannot send it to the host — read-only where the container has it
// read-only, and the rootfs read-only for a --read-only container. The
// tree is then cloned out with open_tree(2).
//
// Going through /proc/<pid>/root instead would need no mounts, but every
// path beneath it would be resolved by the kernel on the host's behalf
// against a root the container controls, and it only exists while the
// container runs.
//
// The caller holds the container's lock, so that no start mounts the
// snapshot meanwhile.
func (e *Engine) containerFS(ctx context.Context, c Container, sp *specs.Spec, readOnlyRoot bool) (*os.File, error) {
	rootfs := e.rootfs(c.ID)
	var ms []mount.Mount
	if !mounted(rootfs) {
		var err error
		if ms, err = e.snap.Mounts(ctx, c.Snapshot); err != nil {
			return nil, fmt.Errorf("root filesystem of %s: %w", c.Name, err)
		}
	}
	var binds []specs.Mount
	for _, m := range sp.Mounts {
		if m.Type == "bind" || slices.Contains(m.Options, "bind") || slices.Contains(m.Options, "rbind") {
			binds = append(binds, m)
		}
	}
	// Parents before what is mounted inside them.
	slices.SortStableFunc(binds, func(a, b specs.Mount) int {
		return cmp.Compare(strings.Count(path.Clean(a.Destination), "/"), strings.Count(path.Clean(b.Destination), "/"))
	})
	var tree *os.File
	err := ns.UnshareAndRun(unix.CLONE_NEWNS|unix.CLONE_FS, func() error {
		if err := mount.MakePrivate(); err != nil {
			return err
		}
		if ms != nil {
			if err := mount.All(ms, rootfs); err != nil {
				return fmt.Errorf("mount the root filesystem of %s: %w", c.Name, err)
			}
		}
		root, err := pathrs.OpenRoot(rootfs)
		if err != nil {
			return err
		}
		defer root.Close()
		for _, m := range binds {
			if err := bindInto(root, m); err != nil {
				return fmt.Errorf("mount %s on %s of %s: %w", m.Source, m.Destination, c.Name, err)
			}
		}
		tree, err = mount.CloneTree(rootfs, readOnlyRoot, false)
		if err != nil {
			return fmt.Errorf("the file system of %s: %w", c.Name, err)
		}
		return nil
	})
	return tree, err
}

// bindInto clones the host path m.Source (with what is mounted below it)
// onto m.Destination inside root, made the way the runtime makes it: a
// directory or a file, created if missing; read-only with "ro".
func bindInto(root *pathrs.Root, m specs.Mount) error {
	st, err := os.Stat(m.Source)
	if err != nil {
		return err
	}
	var dst *os.File
	if st.IsDir() {
		dst, err = root.MkdirAll(m.Destination, 0o755)
	} else {
		dst, err = root.MkFile(m.Destination, 0o644)
	}
	if err != nil {
		return err
	}
	defer dst.Close()
	tree, err := mount.CloneTree(m.Source, slices.Contains(m.Options, "ro"), true)
	if err != nil {
		return err
	}
	defer tree.Close()
	return mount.MoveOnto(tree, dst)
}
