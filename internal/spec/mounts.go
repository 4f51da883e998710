package spec

import (
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-project/berth/internal/errdefs"
)

// DefaultShmSize is the size of /dev/shm when --shm-size is not given
// (docker's config.DefaultShmSize).
const DefaultShmSize = 64 << 20

// dockerMounts are docker's default mounts (moby DefaultLinuxSpec), in its
// order, with /dev/shm sized.
func dockerMounts(shmSize int64) []specs.Mount {
	return []specs.Mount{
		{Destination: "/proc", Type: "proc", Source: "proc", Options: []string{"nosuid", "noexec", "nodev"}},
		{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
		{Destination: "/dev/pts", Type: "devpts", Source: "devpts", Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}},
		{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "noexec", "nodev", "ro"}},
		{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup", Options: []string{"ro", "nosuid", "noexec", "nodev"}},
		{Destination: "/dev/mqueue", Type: "mqueue", Source: "mqueue", Options: []string{"nosuid", "noexec", "nodev"}},
		{Destination: "/dev/shm", Type: "tmpfs", Source: "shm", Options: []string{"nosuid", "noexec", "nodev", "mode=1777", "size=" + strconv.FormatInt(shmSize, 10)}},
	}
}

// dockerMaskedPaths are the paths docker hides from an unprivileged
// container (moby daemon/pkg/oci/defaults.go, with /proc/interrupts for
// GHSA-6fw5-f8r9-fgfm and powercap for GHSA-jq35-85cj-fj4p).
var dockerMaskedPaths = []string{
	"/proc/acpi",
	"/proc/asound",
	"/proc/interrupts",
	"/proc/kcore",
	"/proc/keys",
	"/proc/latency_stats",
	"/proc/sched_debug",
	"/proc/scsi",
	"/proc/timer_list",
	"/proc/timer_stats",
	"/sys/devices/virtual/powercap",
	"/sys/firmware",
}

// dockerReadonlyPaths are the paths docker makes read-only in an
// unprivileged container.
var dockerReadonlyPaths = []string{
	"/proc/bus",
	"/proc/fs",
	"/proc/irq",
	"/proc/sys",
	"/proc/sysrq-trigger",
}

// depth is the number of components of a clean absolute path ("/" is 0).
func depth(p string) int {
	if p == "/" {
		return 0
	}
	return strings.Count(p, "/")
}

// userMounts checks the caller's mounts (absolute, not "/", each
// destination once), cleans their destinations and adds the network files
// and the /dev/shm of a host IPC namespace where no mount has their place.
// The result is sorted by destination depth, parents first and otherwise in
// the order given, as docker sorts its mounts.
func userMounts(opts RunOptions, ns namespaceModes) ([]specs.Mount, error) {
	var out []specs.Mount
	seen := map[string]bool{}
	for _, m := range opts.Mounts {
		if !path.IsAbs(m.Destination) {
			return nil, fmt.Errorf("mount destination %q: not an absolute path: %w", m.Destination, errdefs.ErrInvalidArgument)
		}
		m.Destination = path.Clean(m.Destination)
		if m.Destination == "/" {
			return nil, fmt.Errorf("mount destination %q: cannot mount over the root: %w", m.Destination, errdefs.ErrInvalidArgument)
		}
		if seen[m.Destination] {
			return nil, fmt.Errorf("mount destination %q: duplicate mount point: %w", m.Destination, errdefs.ErrInvalidArgument)
		}
		seen[m.Destination] = true
		m.Options = slices.Clone(m.Options)
		out = append(out, m)
	}

	// docker's NetworkMounts: writable unless --read-only, rprivate.
	bind := []string{"rbind", "rprivate"}
	if opts.ReadOnly {
		bind = []string{"rbind", "ro", "rprivate"}
	}
	for _, f := range []struct{ dest, src string }{
		{"/etc/resolv.conf", opts.ResolvConfPath},
		{"/etc/hostname", opts.HostnamePath},
		{"/etc/hosts", opts.HostsPath},
	} {
		if f.src == "" || seen[f.dest] {
			continue
		}
		if !path.IsAbs(f.src) {
			return nil, fmt.Errorf("%s source %q: not an absolute path: %w", f.dest, f.src, errdefs.ErrInvalidArgument)
		}
		seen[f.dest] = true
		out = append(out, specs.Mount{Destination: f.dest, Type: "bind", Source: f.src, Options: slices.Clone(bind)})
	}
	// docker's IpcMounts for --ipc host: the host's /dev/shm.
	if ns.ipc.host && !seen["/dev/shm"] {
		out = append(out, specs.Mount{Destination: "/dev/shm", Type: "bind", Source: "/dev/shm", Options: []string{"rbind", "rprivate"}})
	}
	slices.SortStableFunc(out, func(a, b specs.Mount) int { return depth(a.Destination) - depth(b.Destination) })
	return out, nil
}

// mounts is docker's WithMounts: the default mounts less those a user mount
// replaces (all of /dev/* when /dev is mounted, /dev/shm with --ipc none
// or host), then the user mounts; with --read-only every default mount but
// /proc and /dev's gets "ro"; privileged, /sys is writable; privileged or
// in a user namespace, the cgroup mount is writable (a user namespace
// cannot remount it read-only).
func mounts(opts RunOptions, ns namespaceModes, user []specs.Mount, shmSize int64) []specs.Mount {
	own := map[string]bool{}
	for _, m := range user {
		own[m.Destination] = true
	}
	var out []specs.Mount
	for _, m := range dockerMounts(shmSize) {
		switch {
		case own[m.Destination]:
			continue
		case own["/dev"] && strings.HasPrefix(m.Destination, "/dev/"):
			continue
		case m.Destination == "/dev/shm" && ns.ipcNone:
			continue
		}
		switch m.Destination {
		case "/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue":
		default:
			if opts.ReadOnly && !slices.Contains(m.Options, "ro") {
				m.Options = append(m.Options, "ro")
			}
		}
		if (m.Destination == "/sys" && opts.Privileged) || (m.Type == "cgroup" && (opts.Privileged || ns.user)) {
			m.Options = slices.DeleteFunc(m.Options, func(o string) bool { return o == "ro" })
		}
		out = append(out, m)
	}
	return append(out, user...)
}

// ImageVolumes returns the image's VOLUME paths, cleaned and sorted, that
// none of mounts has as its destination: docker makes an anonymous volume
// for each, which the engine passes back in RunOptions.Mounts. A relative
// path is taken from /.
func ImageVolumes(volumes map[string]struct{}, mounts []specs.Mount) []string {
	var out []string
	for _, v := range sortedKeys(volumes) {
		p := path.Join("/", v)
		if p == "/" || slices.Contains(out, p) || slices.ContainsFunc(mounts, func(m specs.Mount) bool { return path.Clean(m.Destination) == p }) {
			continue
		}
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}
