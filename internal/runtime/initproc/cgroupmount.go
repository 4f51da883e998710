package initproc

import (
	"fmt"
	"sort"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/linux/mount"
	"github.com/berth-project/berth/internal/linux/pathrs"
)

const cgroupRoot = "/sys/fs/cgroup/"

// cgroupV1 serves a mount of type "cgroup". On a cgroup v2 host it is a
// cgroup2 mount. On a v1 (or hybrid) host it is a tmpfs holding one
// directory per hierarchy, each a bind mount of the container's own cgroup
// in that hierarchy — so the container sees its cgroup as the root, as with
// runc.
func (r *rootfs) cgroupV1(m specs.Mount, o mount.Options) error {
	paths := r.cfg.CgroupPaths
	if len(paths) == 1 && paths[""] != "" {
		m.Type = "cgroup2"
		return r.cgroup2(m, o)
	}
	dst, err := r.root.MkdirAll(m.Destination, 0o755)
	if err != nil {
		return err
	}
	defer dst.Close()
	target := pathrs.FdPath(dst)
	if err := unix.Mount("tmpfs", target, "tmpfs", o.Flags&^unix.MS_RDONLY, "mode=755"); err != nil {
		return fmt.Errorf("tmpfs: %w", err)
	}
	dirs := map[string]string{} // hierarchy name → container cgroup dir
	for _, p := range paths {
		if !strings.HasPrefix(p, cgroupRoot) {
			continue
		}
		name := strings.SplitN(strings.TrimPrefix(p, cgroupRoot), "/", 2)[0]
		dirs[name] = p
	}
	names := make([]string, 0, len(dirs))
	for n := range dirs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		sub, err := r.root.MkdirAll(m.Destination+"/"+name, 0o755)
		if err != nil {
			return err
		}
		t := pathrs.FdPath(sub)
		err = unix.Mount(dirs[name], t, "", unix.MS_BIND|unix.MS_REC, "")
		sub.Close()
		if err != nil {
			return fmt.Errorf("bind cgroup %s: %w", dirs[name], err)
		}
		if err := r.remountAt(m.Destination+"/"+name, o.Flags&(unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC)); err != nil {
			return err
		}
	}
	// cpu,cpuacct style co-mounts get their conventional symlinks.
	for _, name := range names {
		if !strings.Contains(name, ",") {
			continue
		}
		for _, part := range strings.Split(name, ",") {
			if _, ok := dirs[part]; !ok {
				_ = r.root.Symlink(name, m.Destination+"/"+part)
			}
		}
	}
	if o.Flags&unix.MS_RDONLY != 0 {
		return r.remountAt(m.Destination, o.Flags&(unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC))
	}
	return nil
}

// cgroup2 mounts the unified hierarchy: a fresh cgroup2 mount in a cgroup
// namespace of the container's own, else a bind mount of its cgroup.
func (r *rootfs) cgroup2(m specs.Mount, o mount.Options) error {
	dst, err := r.root.MkdirAll(m.Destination, 0o755)
	if err != nil {
		return err
	}
	defer dst.Close()
	target := pathrs.FdPath(dst)
	if r.cfg.NewCgroupNS || r.cfg.CgroupPaths[""] == "" {
		if err := unix.Mount("cgroup2", target, "cgroup2", o.Flags, o.DataString()); err != nil {
			return fmt.Errorf("cgroup2: %w", err)
		}
		return nil
	}
	if err := unix.Mount(r.cfg.CgroupPaths[""], target, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("bind cgroup2 %s: %w", r.cfg.CgroupPaths[""], err)
	}
	if o.Flags&^(unix.MS_BIND|unix.MS_REC) != 0 {
		return r.remountAt(m.Destination, o.Flags&^(unix.MS_BIND|unix.MS_REC))
	}
	return nil
}
