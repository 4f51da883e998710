package spec

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// RunOptions are the flags of `berth run` and `berth create` as data, with
// docker's names and meanings. The zero value runs the image as docker would
// with no flags, except that DefaultSeccomp must be given (see there).
//
// Everything that needs the host — stat'ing devices, reading files, creating
// volumes, the kernel's version — is done by the caller, which passes the
// results in; FromImage only combines them.
type RunOptions struct {
	// ID is the container's ID: its default hostname is the first 12
	// characters, and its cgroup is named after it.
	ID string
	// Hostname and Domainname (--hostname, --domainname). An empty hostname
	// is ID[:12]. With NetworkNS "host" docker uses the host's name: the
	// caller passes it here.
	Hostname, Domainname string

	// Entrypoint (--entrypoint): nil keeps the image's; non-nil replaces it
	// and drops the image's Cmd too, as docker does. An empty slice (or
	// [""], docker's --entrypoint "") means no entrypoint.
	Entrypoint *[]string
	// Cmd, the arguments after the image name: empty keeps the image's Cmd
	// (unless Entrypoint is set).
	Cmd []string
	// Env (-e, --env-file, merged by the caller in flag order): KEY=VALUE
	// sets KEY over the image's value; a bare KEY (a name the caller could
	// not resolve from its own environment) unsets KEY, as docker does.
	Env []string
	// WorkingDir (-w): must be absolute; empty keeps the image's.
	WorkingDir string
	// User (-u): "name", "uid", "uid:gid", "name:group", "uid:group" or
	// "name:gid", resolved against Users. Empty keeps the image's.
	User string
	// GroupAdd (--group-add): extra groups by name or number.
	GroupAdd []string

	// TTY (-t) gives the process a terminal and TERM=xterm. OpenStdin (-i)
	// is the monitor's business; it is kept here for completeness.
	TTY, OpenStdin bool
	// ReadOnly (--read-only): the rootfs, /sys and the network files are
	// read-only.
	ReadOnly bool

	// Privileged (--privileged): every capability, no seccomp, no masked or
	// read-only paths, /sys and cgroup writable, every device allowed. The
	// caller passes the host's devices in Devices (docker: HostDevices).
	Privileged bool
	// CapAdd and CapDrop (--cap-add, --cap-drop): names with or without
	// CAP_, any case, or "ALL".
	CapAdd, CapDrop []string
	// HostCapabilities are the capabilities the caller can give (its own
	// bounding set): what Privileged and --cap-add ALL grant, as docker and
	// podman grant them. Nil is every capability (AllCapabilities).
	HostCapabilities []string
	// Devices (--device) as the caller found them on the host.
	Devices []Device
	// Seccomp is a profile from --security-opt seccomp=FILE, already
	// converted by the caller; nil means Docker's default profile.
	Seccomp *specs.LinuxSeccomp
	// SeccompUnconfined is --security-opt seccomp=unconfined.
	SeccompUnconfined bool
	// DefaultSeccomp returns Docker's default seccomp profile for a
	// bounding set on this host (internal/linux/seccomp.DefaultProfile: the
	// profile's rules depend on the capabilities, the architecture and the
	// kernel's version, which a pure function cannot know). It is called
	// with the container's final bounding set when the default profile
	// applies; FromImage fails rather than run without seccomp when it is
	// needed and nil.
	DefaultSeccomp func(bounding []string) *specs.LinuxSeccomp
	// NoNewPrivileges is --security-opt no-new-privileges (docker's default
	// is false).
	NoNewPrivileges bool
	// MaskedPaths are masked as well as Docker's list (docker also masks
	// /sys/devices/system/cpu/cpuN/thermal_throttle where the host has
	// them: the caller finds those). Ignored when Privileged.
	MaskedPaths []string
	// OOMScoreAdj is --oom-score-adj (-1000..1000).
	OOMScoreAdj int

	// Memory (-m), MemorySwap (--memory-swap: -1 unlimited, 0 twice Memory
	// when Memory is set), MemoryReservation (--memory-reservation), in
	// bytes.
	Memory, MemorySwap, MemoryReservation int64
	// CPUs (--cpus) becomes a CFS quota over a period of 100000 µs.
	CPUs float64
	// CPUShares (--cpu-shares), 0 unset.
	CPUShares uint64
	// CpusetCpus and CpusetMems (--cpuset-cpus, --cpuset-mems).
	CpusetCpus, CpusetMems string
	// PidsLimit (--pids-limit): 0 unset, negative unlimited.
	PidsLimit int64
	// Ulimits (--ulimit, merged by the caller with its defaults: docker
	// sets no rlimit of its own, not even RLIMIT_NOFILE).
	Ulimits []specs.POSIXRlimit
	// ShmSize is the size of /dev/shm in bytes (--shm-size; 0 is 64 MiB).
	ShmSize int64

	// Mounts are the resolved -v/--mount/--tmpfs mounts (binds, named
	// volumes as binds, tmpfs) with their final options; destinations must
	// be absolute and distinct. A mount replaces the default mount at its
	// destination; one at /dev replaces every default under /dev.
	Mounts []specs.Mount
	// Sysctls (--sysctl): only namespaced ones, as docker allows.
	Sysctls map[string]string

	// CgroupsPath is used as is when set; otherwise the path is
	// CgroupParent (default "/berth") joined with ID, or, for a parent
	// ending in ".slice", systemd's "parent:berth:ID".
	CgroupsPath, CgroupParent string

	// Init (--init) runs InitPath (an absolute host path, bind-mounted
	// read-only at InitPathInContainer) as pid 1 with the command after
	// "--". As docker, only in a new pid namespace.
	Init     bool
	InitPath string

	// StopSignal (--stop-signal) overrides the image's; the result is in
	// Result, not in the spec.
	StopSignal string
	// ExposedPorts (--expose): "80", "80/tcp", "53/udp", "8000-8010/tcp".
	ExposedPorts []string
	// Annotations go into the spec; Labels (--label) are merged over the
	// image's into Result.
	Annotations, Labels map[string]string

	// NetworkNS, PIDNS, IPCNS, UTSNS: "" for a new namespace, "host" for the
	// host's, or the absolute path of a namespace to join
	// (/proc/PID/ns/net, /run/netns/NAME). NetworkNS also takes "none" (a
	// new namespace the engine leaves empty); IPCNS takes "none" (a new
	// namespace without /dev/shm) and "shareable"/"private" (new).
	NetworkNS, PIDNS, IPCNS, UTSNS string
	// CgroupNS is "" or "private" for a new cgroup namespace (docker's
	// default on cgroup v2) or "host" (docker's default on v1 and hybrid
	// hosts): the caller, which knows the host, decides.
	CgroupNS string
	// UIDMappings and GIDMappings, when set, put the container in a new
	// user namespace with those mappings (rootless, userns-remap).
	UIDMappings, GIDMappings []specs.LinuxIDMapping

	// HostsPath, HostnamePath and ResolvConfPath are host files the engine
	// wrote; each set one is bind-mounted at /etc/hosts, /etc/hostname and
	// /etc/resolv.conf (read-write unless ReadOnly, as docker), unless a
	// mount in Mounts already has that destination.
	HostsPath, HostnamePath, ResolvConfPath string
}

// Device is a host device node to create in the container (--device).
type Device struct {
	// Path is the path in the container; Type ("c", "b", "u" or "p"),
	// Major, Minor, FileMode, UID and GID are the host node's, as the caller
	// stat'ed it.
	specs.LinuxDevice
	// Permissions is the device cgroup access, letters of "rwm" (empty:
	// "rwm").
	Permissions string
}

// Users are the image's /etc/passwd and /etc/group, as the caller read them
// through a safe resolution inside the rootfs (a symlink in the image must
// not lead to the host's files). Nil means the file does not exist.
type Users struct {
	Passwd, Group []byte
}

// Result is what FromImage decides that has no place in an OCI spec.
type Result struct {
	// StopSignal is the signal `stop` sends: --stop-signal, else the
	// image's, else SIGTERM, as a name ("SIGTERM", "SIGRTMIN+3") and a
	// number (Linux's generic numbering).
	StopSignal       string `json:"stopSignal"`
	StopSignalNumber int    `json:"stopSignalNumber"`
	// Labels are the image's labels with --label over them.
	Labels map[string]string `json:"labels,omitempty"`
	// ExposedPorts are the image's and --expose's ports, "PORT/PROTO",
	// sorted.
	ExposedPorts []string `json:"exposedPorts,omitempty"`
}

// InitPathInContainer is where --init's binary is mounted.
const InitPathInContainer = "/sbin/berth-init"
