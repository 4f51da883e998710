// Package spec builds OCI runtime specs. It is pure: no syscalls, no files, so
// every function here is tested by comparing its output with golden files.
//
// Default is the spec that `berth-runtime spec` writes into a new bundle (the
// same defaults as runc's, so bundles move between the two); Rootless turns a
// spec into one an unprivileged user can run.
//
// FromImage is the spec of `berth run`: an image's config and the run flags
// (RunOptions) become a spec with Docker's defaults — its 14 capabilities,
// seccomp profile, masked and read-only paths, /dev, /dev/shm, device rules,
// sysctls — and the user resolved in the image's /etc/passwd and /etc/group,
// which the caller reads (safely, inside the rootfs) and passes in. What the
// spec has no place for (the stop signal, labels, exposed ports) comes back
// in a Result. For example, `berth run -u app -e A=1 --cap-drop ALL
// --cap-add NET_BIND_SERVICE IMAGE` is
//
//	s, res, err := spec.FromImage(img.Config, spec.RunOptions{
//		ID:             id,
//		User:           "app",
//		Env:            []string{"A=1"},
//		CapDrop:        []string{"ALL"},
//		CapAdd:         []string{"NET_BIND_SERVICE"},
//		HostsPath:      hostsFile,
//		ResolvConfPath: resolvFile,
//		DefaultSeccomp: seccomp.DefaultProfile,
//	}, spec.Users{Passwd: passwd, Group: group})
//
// after which s.Process.Args is the image's entrypoint and command,
// s.Process.User the uid, gid and groups of "app", the bounding set just
// CAP_NET_BIND_SERVICE, and res.StopSignal the image's STOPSIGNAL or
// SIGTERM. Every error is errdefs.ErrInvalidArgument naming the input.
package spec

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// DefaultCapabilities are the capabilities the default spec grants the
// container's process (runc's and Docker's audit_write, kill, net_bind_service
// for `spec`).
var DefaultCapabilities = []string{"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"}

// DefaultMaskedPaths are hidden from the container (bind-mounted over with
// /dev/null or an empty read-only tmpfs).
var DefaultMaskedPaths = []string{
	"/proc/acpi",
	"/proc/asound",
	"/proc/kcore",
	"/proc/keys",
	"/proc/latency_stats",
	"/proc/timer_list",
	"/proc/timer_stats",
	"/proc/sched_debug",
	"/sys/firmware",
	"/sys/devices/virtual/powercap",
	"/proc/scsi",
}

// DefaultReadonlyPaths are remounted read-only inside the container.
var DefaultReadonlyPaths = []string{
	"/proc/bus",
	"/proc/fs",
	"/proc/irq",
	"/proc/sys",
	"/proc/sysrq-trigger",
}

// Default returns the spec of a new bundle: run "sh" in a terminal, rootfs at
// "rootfs" read-only, new pid/network/ipc/uts/mount/cgroup namespaces.
func Default() *specs.Spec {
	caps := func() []string { return append([]string(nil), DefaultCapabilities...) }
	return &specs.Spec{
		Version: specs.Version,
		Process: &specs.Process{
			Terminal: true,
			User:     specs.User{},
			Args:     []string{"sh"},
			Env: []string{
				"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
				"TERM=xterm",
			},
			Cwd:             "/",
			NoNewPrivileges: true,
			Capabilities: &specs.LinuxCapabilities{
				Bounding:  caps(),
				Effective: caps(),
				Permitted: caps(),
			},
			Rlimits: []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Hard: 1024, Soft: 1024}},
		},
		Root:     &specs.Root{Path: "rootfs", Readonly: true},
		Hostname: "berth",
		Mounts: []specs.Mount{
			{Destination: "/proc", Type: "proc", Source: "proc"},
			{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
			{Destination: "/dev/pts", Type: "devpts", Source: "devpts", Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}},
			{Destination: "/dev/shm", Type: "tmpfs", Source: "shm", Options: []string{"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
			{Destination: "/dev/mqueue", Type: "mqueue", Source: "mqueue", Options: []string{"nosuid", "noexec", "nodev"}},
			{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "noexec", "nodev", "ro"}},
			{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup", Options: []string{"nosuid", "noexec", "nodev", "relatime", "ro"}},
		},
		Linux: &specs.Linux{
			Resources: &specs.LinuxResources{
				Devices: []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}},
			},
			Namespaces: []specs.LinuxNamespace{
				{Type: specs.PIDNamespace},
				{Type: specs.NetworkNamespace},
				{Type: specs.IPCNamespace},
				{Type: specs.UTSNamespace},
				{Type: specs.MountNamespace},
				{Type: specs.CgroupNamespace},
			},
			MaskedPaths:   append([]string(nil), DefaultMaskedPaths...),
			ReadonlyPaths: append([]string(nil), DefaultReadonlyPaths...),
		},
	}
}

// Rootless adapts s for an unprivileged user whose uid and gid are given: a
// user namespace mapping that user to root, no network namespace (an
// unprivileged user cannot give it an interface), /sys bind-mounted from the
// host, no cgroup mount or device rules, and devpts without a gid option.
func Rootless(s *specs.Spec, uid, gid uint32) {
	if s.Linux == nil {
		s.Linux = &specs.Linux{}
	}
	var ns []specs.LinuxNamespace
	for _, n := range s.Linux.Namespaces {
		if n.Type == specs.NetworkNamespace || n.Type == specs.UserNamespace {
			continue
		}
		ns = append(ns, n)
	}
	s.Linux.Namespaces = append(ns, specs.LinuxNamespace{Type: specs.UserNamespace})
	s.Linux.UIDMappings = []specs.LinuxIDMapping{{HostID: uid, ContainerID: 0, Size: 1}}
	s.Linux.GIDMappings = []specs.LinuxIDMapping{{HostID: gid, ContainerID: 0, Size: 1}}

	var mounts []specs.Mount
	for _, m := range s.Mounts {
		switch m.Destination {
		case "/sys":
			m = specs.Mount{Destination: "/sys", Type: "none", Source: "/sys", Options: []string{"rbind", "nosuid", "noexec", "nodev", "ro"}}
		case "/sys/fs/cgroup":
			continue
		}
		var opts []string
		for _, o := range m.Options {
			if o == "gid=5" {
				continue
			}
			opts = append(opts, o)
		}
		m.Options = opts
		mounts = append(mounts, m)
	}
	s.Mounts = mounts
	s.Linux.Resources = nil
}
