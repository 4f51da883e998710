package initproc

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/linux/mount"
	"github.com/berth-project/berth/internal/linux/pathrs"
)

// rootfs prepares a container's root filesystem in its new mount namespace:
// prepare (before the createContainer hooks), enter (pivot_root), finish
// (masks, read-only paths, sysctls).
type rootfs struct {
	cfg  *Config
	spec *specs.Spec
	path string
	root *pathrs.Root
	// idmapped are the detached idmapped mounts made by the runtime, by
	// index in spec.Mounts.
	idmapped map[int]*os.File
}

func newRootfs(cfg *Config) (*rootfs, error) {
	return &rootfs{cfg: cfg, spec: cfg.Spec, path: cfg.Rootfs}, nil
}

func (r *rootfs) propagation() uintptr {
	if l := r.spec.Linux; l != nil && l.RootfsPropagation != "" {
		o := mount.ParseOptions([]string{l.RootfsPropagation})
		if len(o.Propagation) == 1 {
			return o.Propagation[0]
		}
	}
	return unix.MS_SLAVE | unix.MS_REC
}

func (r *rootfs) prepare() error {
	if !r.cfg.HostMounts {
		// No mount event of ours may reach the host.
		if err := unix.Mount("", "/", "", r.propagation(), ""); err != nil {
			return fmt.Errorf("set propagation of /: %w", err)
		}
		if err := makeParentPrivate(r.path); err != nil {
			return err
		}
	}
	if err := unix.Mount(r.path, r.path, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("bind rootfs %s: %w", r.path, err)
	}
	if fi, err := os.Lstat(filepath.Join(r.path, "proc")); err == nil && fi.Mode()&os.ModeSymlink != 0 {
		// CVE-2023-27561: a /proc symlink could send procfs writes anywhere.
		return fmt.Errorf("rootfs %s: /proc is a symlink", r.path)
	}
	root, err := pathrs.OpenRoot(r.path)
	if err != nil {
		return err
	}
	r.root = root
	for i, m := range r.spec.Mounts {
		do := r.mount
		if mnt := r.idmapped[i]; mnt != nil {
			do = func(m specs.Mount) error { return r.attachIDMapped(m, mnt) }
		}
		if err := do(m); err != nil {
			return fmt.Errorf("mount %s on %s: %w", m.Source, m.Destination, err)
		}
	}
	if err := r.devices(); err != nil {
		return err
	}
	if cwd := r.cfg.Process.Cwd; cwd != "" && cwd != "/" {
		d, err := r.root.MkdirAll(cwd, 0o755)
		if err != nil {
			return fmt.Errorf("create cwd %s: %w", cwd, err)
		}
		d.Close()
	}
	return nil
}

// makeParentPrivate makes the mount holding path private if it is shared:
// pivot_root refuses a shared parent. A slave or private parent is kept, so
// that the rootfs bind mount (and with it "/") keeps rootfsPropagation.
func makeParentPrivate(path string) error {
	mp, shared, err := mountPointOf(path)
	if err != nil {
		return err
	}
	if !shared {
		return nil
	}
	if err := unix.Mount("", mp, "", unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make %s private: %w", mp, err)
	}
	return nil
}

// mountPointOf returns the mount point under which path lies, and whether
// that mount is shared (has a "shared:N" optional field).
func mountPointOf(path string) (string, bool, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return "", false, fmt.Errorf("read mountinfo: %w", err)
	}
	defer f.Close()
	best, shared := "", false
	s := bufio.NewScanner(f)
	for s.Scan() {
		fields := strings.Fields(s.Text())
		if len(fields) < 7 { // id parent dev root mountpoint options … "-"
			continue
		}
		mp := mount.Unescape(fields[4])
		// ">=": of mounts stacked on one point, the last listed is on top.
		if (path == mp || strings.HasPrefix(path, strings.TrimSuffix(mp, "/")+"/")) && len(mp) >= len(best) {
			best, shared = mp, false
			for _, opt := range fields[6:] {
				if opt == "-" {
					break
				}
				shared = shared || strings.HasPrefix(opt, "shared:")
			}
		}
	}
	if best == "" {
		best = "/"
	}
	return best, shared, s.Err()
}

func (r *rootfs) mount(m specs.Mount) error {
	if !filepath.IsAbs(m.Destination) {
		m.Destination = "/" + m.Destination
	}
	o := mount.ParseOptions(m.Options)
	switch {
	case o.Bind() || m.Type == "bind":
		return r.bind(m, o)
	case m.Type == "cgroup":
		return r.cgroupV1(m, o)
	case m.Type == "cgroup2":
		return r.cgroup2(m, o)
	}
	dst, err := r.root.MkdirAll(m.Destination, 0o755)
	if err != nil {
		return err
	}
	defer dst.Close()
	target := pathrs.FdPath(dst)
	data := o.DataString()
	flags := o.Flags
	if err := unix.Mount(m.Source, target, m.Type, flags, data); err != nil {
		if m.Type == "mqueue" && errors.Is(err, unix.EPERM) {
			// no IPC namespace of our own: bind the host's, as runc does
			return unix.Mount("/dev/mqueue", target, "", unix.MS_BIND|unix.MS_REC, "")
		}
		if m.Type == "sysfs" && errors.Is(err, unix.EPERM) && r.cfg.UserNS {
			// sysfs needs a network namespace owned by the user namespace.
			return unix.Mount("/sys", target, "", unix.MS_BIND|unix.MS_REC, "")
		}
		return err
	}
	return r.finishMount(m.Destination, o)
}

// bind makes a bind mount; read-only and other flags need a remount.
func (r *rootfs) bind(m specs.Mount, o mount.Options) error {
	src := m.Source
	fi, err := os.Stat(src)
	if err != nil {
		return fmt.Errorf("bind source: %w", err)
	}
	var dst *os.File
	if fi.IsDir() {
		dst, err = r.root.MkdirAll(m.Destination, 0o755)
	} else {
		dst, err = r.root.MkFile(m.Destination, 0o644)
	}
	if err != nil {
		return err
	}
	defer dst.Close()
	target := pathrs.FdPath(dst)
	if err := unix.Mount(src, target, "", unix.MS_BIND|(o.Flags&unix.MS_REC), ""); err != nil {
		return err
	}
	if extra := o.Flags &^ (unix.MS_BIND | unix.MS_REC | unix.MS_REMOUNT); extra != 0 {
		if err := r.remountAt(m.Destination, extra); err != nil {
			return err
		}
	}
	return r.finishMount(m.Destination, o)
}

// remountAt remounts the mount on dest (resolved again, so that the handle
// is the new mount's root, not the directory under it).
func (r *rootfs) remountAt(dest string, flags uintptr) error {
	mnt, err := r.root.Open(dest, unix.O_PATH)
	if err != nil {
		return err
	}
	defer mnt.Close()
	return remountBind(pathrs.FdPath(mnt), flags)
}

// remountBind changes the flags of a bind mount, keeping the flags the
// kernel locks (nodev, nosuid, noexec, atime) when inherited from a more
// privileged namespace.
func remountBind(target string, flags uintptr) error {
	var st unix.Statfs_t
	if err := unix.Statfs(target, &st); err != nil {
		return fmt.Errorf("statfs %s: %w", target, err)
	}
	locked := uintptr(st.Flags) & (unix.MS_NODEV | unix.MS_NOSUID | unix.MS_NOEXEC | unix.MS_RDONLY |
		unix.MS_NOATIME | unix.MS_NODIRATIME | unix.MS_RELATIME)
	if flags&unix.MS_RDONLY == 0 {
		locked &^= unix.MS_RDONLY
	}
	if err := unix.Mount("", target, "", unix.MS_BIND|unix.MS_REMOUNT|flags|locked, ""); err != nil {
		return fmt.Errorf("remount %s: %w", target, err)
	}
	return nil
}

// finishMount applies propagation and recursive attributes to the mount
// on dest.
func (r *rootfs) finishMount(dest string, o mount.Options) error {
	if len(o.Propagation) == 0 && o.AttrSet == 0 && o.AttrClr == 0 {
		return nil
	}
	mnt, err := r.root.Open(dest, unix.O_PATH)
	if err != nil {
		return err
	}
	defer mnt.Close()
	target := pathrs.FdPath(mnt)
	for _, p := range o.Propagation {
		if err := unix.Mount("", target, "", p, ""); err != nil {
			return fmt.Errorf("set propagation: %w", err)
		}
	}
	if o.AttrSet != 0 || o.AttrClr != 0 {
		attr := &unix.MountAttr{Attr_set: o.AttrSet, Attr_clr: o.AttrClr}
		if err := unix.MountSetattr(-1, target, unix.AT_RECURSIVE, attr); err != nil {
			return fmt.Errorf("set recursive mount attributes: %w", err)
		}
	}
	return nil
}

// enter makes the rootfs the root of the mount namespace.
func (r *rootfs) enter() error {
	defer r.root.Close()
	if r.cfg.HostMounts {
		if err := unix.Chroot(r.path); err != nil {
			return fmt.Errorf("chroot %s: %w", r.path, err)
		}
		return unix.Chdir("/")
	}
	if r.cfg.NoPivot {
		if err := unix.Chdir(r.path); err != nil {
			return fmt.Errorf("chdir rootfs: %w", err)
		}
		if err := unix.Mount(r.path, "/", "", unix.MS_MOVE, ""); err != nil {
			return fmt.Errorf("move rootfs to /: %w", err)
		}
		if err := unix.Chroot("."); err != nil {
			return fmt.Errorf("chroot: %w", err)
		}
		return unix.Chdir("/")
	}
	oldroot, err := unix.Open("/", unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open old root: %w", err)
	}
	defer unix.Close(oldroot)
	if err := unix.Chdir(r.path); err != nil {
		return fmt.Errorf("chdir rootfs: %w", err)
	}
	if err := unix.PivotRoot(".", "."); err != nil {
		return fmt.Errorf("pivot_root %s: %w", r.path, err)
	}
	if err := unix.Fchdir(oldroot); err != nil {
		return fmt.Errorf("fchdir old root: %w", err)
	}
	// Detach the old root without telling the host's mounts about it.
	if err := unix.Mount("", ".", "", unix.MS_SLAVE|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("make old root slave: %w", err)
	}
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return fmt.Errorf("unmount old root: %w", err)
	}
	return unix.Chdir("/")
}

// finish runs inside the new root: propagation, masked and read-only paths,
// sysctls, and the read-only root.
func (r *rootfs) finish() error {
	if l := r.spec.Linux; l != nil && l.RootfsPropagation != "" {
		if err := unix.Mount("", "/", "", r.propagation(), ""); err != nil {
			return fmt.Errorf("set rootfs propagation %s: %w", l.RootfsPropagation, err)
		}
	}
	root, err := pathrs.OpenRoot("/")
	if err != nil {
		return err
	}
	defer root.Close()
	if l := r.spec.Linux; l != nil {
		// sysctls first: /proc/sys becomes read-only below.
		if err := writeSysctls(l.Sysctl); err != nil {
			return err
		}
		for _, p := range l.ReadonlyPaths {
			if err := readonlyPath(root, p); err != nil {
				return err
			}
		}
		for _, p := range l.MaskedPaths {
			if err := maskPath(root, p); err != nil {
				return err
			}
		}
	}
	if r.spec.Root != nil && r.spec.Root.Readonly {
		if err := remountBind("/", unix.MS_RDONLY); err != nil {
			return fmt.Errorf("make rootfs read-only: %w", err)
		}
	}
	return nil
}

func readonlyPath(root *pathrs.Root, p string) error {
	f, err := root.Open(p, unix.O_PATH)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("readonly path %s: %w", p, err)
	}
	defer f.Close()
	t := pathrs.FdPath(f)
	if err := unix.Mount(t, t, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("readonly path %s: bind: %w", p, err)
	}
	g, err := root.Open(p, unix.O_PATH)
	if err != nil {
		return fmt.Errorf("readonly path %s: %w", p, err)
	}
	defer g.Close()
	if err := remountBind(pathrs.FdPath(g), unix.MS_RDONLY|unix.MS_REC); err != nil {
		return fmt.Errorf("readonly path %s: %w", p, err)
	}
	return nil
}

func maskPath(root *pathrs.Root, p string) error {
	f, err := root.Open(p, unix.O_PATH)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("masked path %s: %w", p, err)
	}
	defer f.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return fmt.Errorf("masked path %s: %w", p, err)
	}
	t := pathrs.FdPath(f)
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		if err := unix.Mount("tmpfs", t, "tmpfs", unix.MS_RDONLY, "size=0,mode=0555"); err != nil {
			return fmt.Errorf("masked path %s: %w", p, err)
		}
		return nil
	}
	null, err := root.Open("/dev/null", unix.O_PATH)
	if err != nil {
		return fmt.Errorf("masked path %s: open /dev/null: %w", p, err)
	}
	defer null.Close()
	// CVE-2025-31133: /dev/null must really be the null device.
	if ok, err := pathrs.IsDevNull(null); err != nil || !ok {
		return fmt.Errorf("masked path %s: /dev/null is not the null device", p)
	}
	if err := unix.Mount(pathrs.FdPath(null), t, "", unix.MS_BIND, ""); err != nil {
		return fmt.Errorf("masked path %s: %w", p, err)
	}
	return nil
}

func writeSysctls(sysctl map[string]string) error {
	if len(sysctl) == 0 {
		return nil
	}
	proc, err := pathrs.OpenProc("/proc")
	if err != nil {
		return fmt.Errorf("sysctl: %w", err)
	}
	defer proc.Close()
	for k, v := range sysctl {
		rel := "sys/" + strings.ReplaceAll(k, ".", "/")
		f, err := proc.Open(rel, unix.O_WRONLY|unix.O_TRUNC)
		if err != nil {
			return fmt.Errorf("sysctl %s: %w", k, err)
		}
		_, err = f.WriteString(v)
		f.Close()
		if err != nil {
			return fmt.Errorf("sysctl %s=%s: %w", k, v, err)
		}
	}
	return nil
}
