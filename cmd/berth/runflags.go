package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/spf13/pflag"
	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/engine"
	"github.com/berth-project/berth/internal/linux/seccomp"
	"github.com/berth-project/berth/internal/monitor"
	"github.com/berth-project/berth/internal/spec"
)

// runFlags are the flags `run` and `create` share, as docker names them.
type runFlags struct {
	name, entrypoint, workdir, user, hostname, domainname         string
	env, envFiles, volumes, mounts, tmpfs, capAdd, capDrop        []string
	devices, securityOpts, groupAdd, labels, logOpts, ulimits     []string
	sysctls, expose, publish                                      []string
	networkAliases, dns, dnsSearch, dnsOptions, addHosts          []string
	ip, macAddress                                                string
	interactive, tty, readOnly, privileged, rm, init, noHealth    bool
	publishAll                                                    bool
	memory, memorySwap, memoryReservation, shmSize                string
	cpus                                                          float64
	cpuShares                                                     uint64
	cpusetCpus, cpusetMems                                        string
	pidsLimit                                                     int64
	restart, runtime, network, logDriver, stopSignal, pid, ipc    string
	uts, cgroupParent, cgroupns                                   string
	stopTimeout, oomScoreAdj                                      int
	healthCmd                                                     string
	healthInterval, healthTimeout, healthStartPeriod, healthStart time.Duration
	healthRetries                                                 int
	entrypointSet                                                 bool
}

func (r *runFlags) bind(f *pflag.FlagSet) {
	f.SetInterspersed(false)                       // flags after the image belong to the command
	f.Bool("help", false, "help for this command") // -h is --hostname, as in docker
	f.StringVar(&r.name, "name", "", "the container's name")
	f.StringVar(&r.entrypoint, "entrypoint", "", "override the image's ENTRYPOINT (\"\" for none)")
	f.StringVarP(&r.workdir, "workdir", "w", "", "working directory inside the container")
	f.StringVarP(&r.user, "user", "u", "", "user[:group] to run as (name or number)")
	f.StringVarP(&r.hostname, "hostname", "h", "", "the container's hostname")
	f.StringVar(&r.domainname, "domainname", "", "the container's NIS domain name")
	f.StringArrayVarP(&r.env, "env", "e", nil, "set KEY=VALUE (KEY alone: take its value from here)")
	f.StringArrayVar(&r.envFiles, "env-file", nil, "read KEY=VALUE lines from a file")
	f.StringArrayVarP(&r.volumes, "volume", "v", nil, "bind or volume: [SOURCE:]DEST[:ro|rw|...] (a missing host dir is created)")
	f.StringArrayVar(&r.mounts, "mount", nil, "type=bind|volume|tmpfs,source=…,target=…[,readonly]")
	f.StringArrayVar(&r.tmpfs, "tmpfs", nil, "a tmpfs at DEST[:OPTIONS]")
	f.BoolVarP(&r.interactive, "interactive", "i", false, "keep stdin open")
	f.BoolVarP(&r.tty, "tty", "t", false, "allocate a terminal")
	f.BoolVar(&r.readOnly, "read-only", false, "mount the root filesystem read-only")
	f.BoolVar(&r.privileged, "privileged", false, "every capability and device, no seccomp, no masked paths")
	f.StringArrayVar(&r.capAdd, "cap-add", nil, "add a capability (or ALL)")
	f.StringArrayVar(&r.capDrop, "cap-drop", nil, "drop a capability (or ALL)")
	f.StringArrayVar(&r.devices, "device", nil, "add a host device: HOST[:CONTAINER[:rwm]]")
	f.StringArrayVar(&r.securityOpts, "security-opt", nil, "seccomp=PROFILE.json|unconfined, no-new-privileges")
	f.StringArrayVar(&r.groupAdd, "group-add", nil, "an additional group")
	f.StringArrayVarP(&r.labels, "label", "l", nil, "set a label KEY=VALUE")
	f.StringVar(&r.logDriver, "log-driver", "", "k8s-file (default), json-file or none")
	f.StringArrayVar(&r.logOpts, "log-opt", nil, "max-size=SIZE, max-file=N")
	f.StringArrayVar(&r.ulimits, "ulimit", nil, "NAME=SOFT[:HARD], e.g. nofile=1024:2048")
	f.StringArrayVar(&r.sysctls, "sysctl", nil, "a namespaced sysctl KEY=VALUE")
	f.StringArrayVar(&r.expose, "expose", nil, "expose a port or range")
	f.StringArrayVarP(&r.publish, "publish", "p", nil, "publish a container's port on the host: [HOST_IP:][HOST_PORT[-END]:]PORT[-END][/tcp|udp|sctp]")
	f.BoolVarP(&r.publishAll, "publish-all", "P", false, "publish every exposed port (image EXPOSE and --expose) on a free host port")
	f.BoolVar(&r.rm, "rm", false, "remove the container when it exits")
	f.BoolVar(&r.init, "init", false, "run an init (catatonit or tini) as pid 1 that reaps and forwards signals")
	f.StringVarP(&r.memory, "memory", "m", "", "memory limit (e.g. 512m)")
	f.StringVar(&r.memorySwap, "memory-swap", "", "memory+swap limit (-1 unlimited)")
	f.StringVar(&r.memoryReservation, "memory-reservation", "", "memory soft limit")
	f.StringVar(&r.shmSize, "shm-size", "", "size of /dev/shm (default 64m)")
	f.Float64Var(&r.cpus, "cpus", 0, "number of CPUs")
	f.Uint64VarP(&r.cpuShares, "cpu-shares", "c", 0, "CPU shares (relative weight)")
	f.StringVar(&r.cpusetCpus, "cpuset-cpus", "", "CPUs to run on (0-3, 0,1)")
	f.StringVar(&r.cpusetMems, "cpuset-mems", "", "memory nodes to use")
	f.Int64Var(&r.pidsLimit, "pids-limit", 0, "process limit (-1 unlimited)")
	f.IntVar(&r.oomScoreAdj, "oom-score-adj", 0, "the container's OOM score adjustment")
	f.StringVar(&r.restart, "restart", "no", "no, on-failure[:N], always or unless-stopped")
	f.StringVar(&r.runtime, "runtime", "", "OCI runtime: a name (berth-runtime, runc) or a path")
	f.StringVar(&r.network, "network", "", "bridge (default: the network \"berth\"), NETWORK (a user network), none (loopback only), host or container:NAME")
	f.StringArrayVar(&r.networkAliases, "network-alias", nil, "another name of the container on its user network")
	f.StringVar(&r.ip, "ip", "", "a static IPv4 address on the user network")
	f.StringVar(&r.macAddress, "mac-address", "", "the MAC address of the container's first interface")
	f.StringArrayVar(&r.dns, "dns", nil, "a nameserver for /etc/resolv.conf (replaces the host's)")
	f.StringArrayVar(&r.dnsSearch, "dns-search", nil, "a search domain for /etc/resolv.conf (replaces the host's; \".\" for none)")
	f.StringArrayVar(&r.dnsOptions, "dns-option", nil, "a resolver option for /etc/resolv.conf (replaces the host's)")
	f.StringArrayVar(&r.addHosts, "add-host", nil, "a line for /etc/hosts: HOST:IP (IP may be host-gateway)")
	f.StringVar(&r.stopSignal, "stop-signal", "", "signal that stops the container (default the image's, else SIGTERM)")
	f.IntVar(&r.stopTimeout, "stop-timeout", engine.DefaultStopTimeout, "seconds stop waits before SIGKILL")
	f.StringVar(&r.pid, "pid", "", "pid namespace: host or container:NAME")
	f.StringVar(&r.ipc, "ipc", "", "ipc namespace: host, none, private, shareable")
	f.StringVar(&r.uts, "uts", "", "uts namespace: host")
	f.StringVar(&r.cgroupParent, "cgroup-parent", "", "parent cgroup (default /berth)")
	f.StringVar(&r.cgroupns, "cgroupns", "", "cgroup namespace: host or private")
	f.StringVar(&r.healthCmd, "health-cmd", "", "command that checks the container's health (run with /bin/sh -c)")
	f.DurationVar(&r.healthInterval, "health-interval", 0, "time between health checks (default 30s)")
	f.DurationVar(&r.healthTimeout, "health-timeout", 0, "longest a health check may run (default 30s)")
	f.DurationVar(&r.healthStartPeriod, "health-start-period", 0, "grace period before failures count")
	f.DurationVar(&r.healthStart, "health-start-interval", 0, "time between checks in the start period")
	f.IntVar(&r.healthRetries, "health-retries", 0, "failures in a row before unhealthy (default 3)")
	f.BoolVar(&r.noHealth, "no-healthcheck", false, "disable any health check")
}

// options turns the flags, the image and the command into CreateOptions.
func (r *runFlags) options(img string, cmd []string) (engine.CreateOptions, error) {
	o := engine.CreateOptions{
		Name: r.name, Image: img, Volumes: r.volumes, Mounts: r.mounts, Tmpfs: r.tmpfs,
		Network: r.network, Runtime: r.runtime, Restart: r.restart, LogDriver: r.logDriver,
		AutoRemove: r.rm,
	}
	o.Net = engine.NetworkOptions{
		Aliases: r.networkAliases, IP: r.ip, MAC: r.macAddress, DNS: r.dns, DNSSearch: r.dnsSearch,
		DNSOptions: r.dnsOptions, AddHosts: r.addHosts, Publish: r.publish, PublishAll: r.publishAll,
	}
	if r.stopTimeout >= 0 {
		o.StopTimeout = &r.stopTimeout
	}
	run := spec.RunOptions{
		Hostname: r.hostname, Domainname: r.domainname, Cmd: cmd, WorkingDir: r.workdir, User: r.user,
		GroupAdd: r.groupAdd, TTY: r.tty, OpenStdin: r.interactive, ReadOnly: r.readOnly,
		Privileged: r.privileged, CapAdd: r.capAdd, CapDrop: r.capDrop, CPUs: r.cpus, CPUShares: r.cpuShares,
		CpusetCpus: r.cpusetCpus, CpusetMems: r.cpusetMems, PidsLimit: r.pidsLimit, OOMScoreAdj: r.oomScoreAdj,
		Init: r.init, StopSignal: r.stopSignal, ExposedPorts: r.expose, CgroupParent: r.cgroupParent,
		PIDNS: r.pid, IPCNS: r.ipc, UTSNS: r.uts, CgroupNS: r.cgroupns,
	}
	if r.entrypointSet {
		ep := []string{}
		if r.entrypoint != "" {
			ep = []string{r.entrypoint}
		}
		run.Entrypoint = &ep
	}
	var err error
	if run.Env, err = environment(r.envFiles, r.env); err != nil {
		return o, err
	}
	for _, sz := range []struct {
		flag, v string
		dst     *int64
	}{{"--memory", r.memory, &run.Memory}, {"--memory-swap", r.memorySwap, &run.MemorySwap},
		{"--memory-reservation", r.memoryReservation, &run.MemoryReservation}, {"--shm-size", r.shmSize, &run.ShmSize}} {
		if sz.v == "" {
			continue
		}
		if sz.v == "-1" {
			*sz.dst = -1
			continue
		}
		n, err := parseSize(sz.v)
		if err != nil {
			return o, usageError("%s %s: %v", sz.flag, sz.v, err)
		}
		*sz.dst = n
	}
	if run.Labels, err = keyValues("--label", r.labels); err != nil {
		return o, err
	}
	if run.Sysctls, err = keyValues("--sysctl", r.sysctls); err != nil {
		return o, err
	}
	if o.LogOpts, err = keyValues("--log-opt", r.logOpts); err != nil {
		return o, err
	}
	for _, u := range r.ulimits {
		l, err := parseUlimit(u)
		if err != nil {
			return o, err
		}
		run.Ulimits = append(run.Ulimits, l)
	}
	for _, d := range r.devices {
		dev, err := hostDevice(d)
		if err != nil {
			return o, err
		}
		run.Devices = append(run.Devices, dev)
	}
	for _, so := range r.securityOpts {
		switch {
		case so == "no-new-privileges" || so == "no-new-privileges:true" || so == "no-new-privileges=true":
			run.NoNewPrivileges = true
		case so == "seccomp=unconfined" || so == "seccomp:unconfined":
			run.SeccompUnconfined = true
		case strings.HasPrefix(so, "seccomp=") || strings.HasPrefix(so, "seccomp:"):
			p, err := loadSeccompProfile(so[len("seccomp="):], r.capAdd)
			if err != nil {
				return o, err
			}
			run.Seccomp = p
		default:
			return o, usageError("--security-opt %q: want seccomp=PROFILE|unconfined or no-new-privileges", so)
		}
	}
	if r.healthCmd != "" && !r.noHealth {
		o.Health = &monitor.HealthConfig{
			Test: []string{"CMD-SHELL", r.healthCmd}, Interval: r.healthInterval, Timeout: r.healthTimeout,
			StartPeriod: r.healthStartPeriod, StartInterval: r.healthStart, Retries: r.healthRetries,
		}
	}
	o.Run = run
	return o, nil
}

// usageError is a bad flag value: exit 125 with a message, as docker.
func usageError(format string, a ...any) error { return fmt.Errorf(format, a...) }

// environment merges --env-file files and -e flags in order; a bare KEY
// takes its value from berth's own environment (dropped when unset).
func environment(files, flags []string) ([]string, error) {
	var env []string
	add := func(kv string) {
		if k, _, ok := strings.Cut(kv, "="); !ok {
			if v, set := os.LookupEnv(k); set {
				env = append(env, k+"="+v)
			}
			return
		}
		env = append(env, kv)
	}
	for _, p := range files {
		f, err := os.Open(p)
		if err != nil {
			return nil, usageError("--env-file: %v", err)
		}
		s := bufio.NewScanner(f)
		for s.Scan() {
			line := strings.TrimSpace(s.Text())
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			add(line)
		}
		f.Close()
		if err := s.Err(); err != nil {
			return nil, usageError("--env-file %s: %v", p, err)
		}
	}
	for _, e := range flags {
		add(e)
	}
	return env, nil
}

func keyValues(flag string, list []string) (map[string]string, error) {
	if len(list) == 0 {
		return nil, nil
	}
	m := map[string]string{}
	for _, kv := range list {
		k, v, _ := strings.Cut(kv, "=")
		if k == "" {
			return nil, usageError("%s %q: want KEY=VALUE", flag, kv)
		}
		m[k] = v
	}
	return m, nil
}

// parseSize reads docker's sizes (binary units: 512m, 1g, 1024k, 100).
func parseSize(s string) (int64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	mult := int64(1)
	if n := len(t); n > 0 {
		if t[n-1] == 'b' && n > 1 && strings.ContainsRune("kmgt", rune(t[n-2])) {
			t = t[:n-1]
		}
	}
	if n := len(t); n > 0 {
		switch t[n-1] {
		case 'k':
			mult, t = 1<<10, t[:n-1]
		case 'm':
			mult, t = 1<<20, t[:n-1]
		case 'g':
			mult, t = 1<<30, t[:n-1]
		case 't':
			mult, t = 1<<40, t[:n-1]
		case 'b':
			t = t[:n-1]
		}
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || f < 0 {
		return 0, fmt.Errorf("want a size such as 512m or 1g")
	}
	return int64(f * float64(mult)), nil
}

// parseUlimit reads --ulimit NAME=SOFT[:HARD].
func parseUlimit(s string) (specs.POSIXRlimit, error) {
	name, val, ok := strings.Cut(s, "=")
	if !ok {
		return specs.POSIXRlimit{}, usageError("--ulimit %q: want NAME=SOFT[:HARD]", s)
	}
	softS, hardS, hasHard := strings.Cut(val, ":")
	if !hasHard {
		hardS = softS
	}
	soft, err1 := strconv.ParseInt(softS, 10, 64)
	hard, err2 := strconv.ParseInt(hardS, 10, 64)
	if err1 != nil || err2 != nil || soft > hard {
		return specs.POSIXRlimit{}, usageError("--ulimit %q: want numbers, soft ≤ hard", s)
	}
	typ := "RLIMIT_" + strings.ToUpper(name)
	if _, known := rlimits[typ]; !known {
		return specs.POSIXRlimit{}, usageError("--ulimit %q: unknown limit %s", s, name)
	}
	conv := func(n int64) uint64 {
		if n < 0 {
			return ^uint64(0)
		}
		return uint64(n)
	}
	return specs.POSIXRlimit{Type: typ, Soft: conv(soft), Hard: conv(hard)}, nil
}

var rlimits = map[string]bool{
	"RLIMIT_CORE": true, "RLIMIT_CPU": true, "RLIMIT_DATA": true, "RLIMIT_FSIZE": true, "RLIMIT_LOCKS": true,
	"RLIMIT_MEMLOCK": true, "RLIMIT_MSGQUEUE": true, "RLIMIT_NICE": true, "RLIMIT_NOFILE": true,
	"RLIMIT_NPROC": true, "RLIMIT_RSS": true, "RLIMIT_RTPRIO": true, "RLIMIT_RTTIME": true,
	"RLIMIT_SIGPENDING": true, "RLIMIT_STACK": true, "RLIMIT_AS": true,
}

// hostDevice stats --device HOST[:CONTAINER[:PERMS]].
func hostDevice(s string) (spec.Device, error) {
	parts := strings.Split(s, ":")
	host, ctr, perms := parts[0], parts[0], "rwm"
	if len(parts) > 1 && parts[1] != "" {
		ctr = parts[1]
	}
	if len(parts) > 2 {
		perms = parts[2]
	}
	if len(parts) > 3 {
		return spec.Device{}, usageError("--device %q: want HOST[:CONTAINER[:rwm]]", s)
	}
	var st unix.Stat_t
	if err := unix.Stat(host, &st); err != nil {
		return spec.Device{}, usageError("--device %s: %v", host, err)
	}
	var typ string
	switch st.Mode & syscall.S_IFMT {
	case syscall.S_IFCHR:
		typ = "c"
	case syscall.S_IFBLK:
		typ = "b"
	default:
		return spec.Device{}, usageError("--device %s: not a device", host)
	}
	mode := os.FileMode(st.Mode & 0o777)
	uid, gid := st.Uid, st.Gid
	return spec.Device{
		LinuxDevice: specs.LinuxDevice{Path: ctr, Type: typ, Major: int64(unix.Major(uint64(st.Rdev))),
			Minor: int64(unix.Minor(uint64(st.Rdev))), FileMode: &mode, UID: &uid, GID: &gid},
		Permissions: perms,
	}, nil
}

// loadSeccompProfile reads --security-opt seccomp=FILE for docker's
// default capability set plus --cap-add (the profile's includes and
// excludes are decided against them).
func loadSeccompProfile(path string, capAdd []string) (*specs.LinuxSeccomp, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, usageError("--security-opt seccomp=%s: %v", path, err)
	}
	caps := append([]string{}, spec.DockerCapabilities...)
	for _, c := range capAdd {
		c = strings.ToUpper(c)
		if !strings.HasPrefix(c, "CAP_") {
			c = "CAP_" + c
		}
		caps = append(caps, c)
	}
	p, err := seccomp.LoadProfile(b, caps)
	if err != nil {
		return nil, usageError("--security-opt seccomp=%s: %v", path, err)
	}
	return p, nil
}
