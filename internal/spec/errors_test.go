package spec

import (
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-project/berth/internal/errdefs"
)

// Bad input is an InvalidArgument error that names it.
func TestFromImageErrors(t *testing.T) {
	for _, c := range []struct {
		name  string
		img   ocispec.ImageConfig
		opts  func(*RunOptions)
		users *Users
		want  string
	}{
		{name: "unknown user", opts: func(o *RunOptions) { o.User = "nobody2" }, want: "unable to find user nobody2"},
		{name: "unknown image user", img: ocispec.ImageConfig{User: "postgres", Cmd: []string{"sh"}}, want: "unable to find user postgres"},
		{name: "user name without passwd", opts: func(o *RunOptions) { o.User = "root" }, users: &Users{}, want: "unable to find user root"},
		{name: "unknown group", opts: func(o *RunOptions) { o.User = "app:wheel2" }, want: "unable to find group wheel2"},
		{name: "uid out of range", opts: func(o *RunOptions) { o.User = "4294967296" }, want: "uid out of range"},
		{name: "negative gid", opts: func(o *RunOptions) { o.User = "0:-1" }, want: "gid out of range"},
		{name: "unknown group-add", opts: func(o *RunOptions) { o.GroupAdd = []string{"docker"} }, want: "unable to find group docker"},
		{name: "bad cap name", opts: func(o *RunOptions) { o.CapAdd = []string{"SYS_FOO"} }, want: `unknown capability "SYS_FOO"`},
		{name: "bad cap-drop name", opts: func(o *RunOptions) { o.CapDrop = []string{""} }, want: "--cap-drop: unknown capability"},
		{name: "non-namespaced sysctl", opts: func(o *RunOptions) { o.Sysctls = map[string]string{"kernel.panic": "1"} }, want: `sysctl "kernel.panic": not a namespaced sysctl`},
		{name: "vm sysctl", opts: func(o *RunOptions) { o.Sysctls = map[string]string{"vm.swappiness": "1"} }, want: "not a namespaced sysctl"},
		{name: "net sysctl with host network", opts: func(o *RunOptions) {
			o.NetworkNS = "host"
			o.Sysctls = map[string]string{"net.ipv4.ip_forward": "1"}
		}, want: "not allowed in the host's network namespace"},
		{name: "ipc sysctl with host ipc", opts: func(o *RunOptions) {
			o.IPCNS = "host"
			o.Sysctls = map[string]string{"kernel.shmmax": "1"}
		}, want: "not allowed in the host's IPC namespace"},
		{name: "sysctl path", opts: func(o *RunOptions) { o.Sysctls = map[string]string{"net/ipv4/ip_forward": "1"} }, want: "not a sysctl name"},
		{name: "no command", img: ocispec.ImageConfig{}, want: "no command specified"},
		{name: "entrypoint reset drops image cmd", opts: func(o *RunOptions) { o.Entrypoint = strs("") }, want: "no command specified"},
		{name: "empty entrypoint slice drops image cmd", opts: func(o *RunOptions) { o.Entrypoint = strs() }, want: "no command specified"},
		{name: "empty executable", opts: func(o *RunOptions) { o.Entrypoint = strs("", "x") }, want: "empty executable name"},
		{name: "relative mount destination", opts: func(o *RunOptions) {
			o.Mounts = []specs.Mount{{Destination: "data", Type: "bind", Source: "/srv/data"}}
		}, want: `mount destination "data": not an absolute path`},
		{name: "mount over root", opts: func(o *RunOptions) {
			o.Mounts = []specs.Mount{{Destination: "/x/..", Type: "bind", Source: "/srv/data"}}
		}, want: "cannot mount over the root"},
		{name: "duplicate mount", opts: func(o *RunOptions) {
			o.Mounts = []specs.Mount{{Destination: "/data", Type: "bind", Source: "/a"}, {Destination: "/data/", Type: "bind", Source: "/b"}}
		}, want: "duplicate mount point"},
		{name: "memory-swap below memory", opts: func(o *RunOptions) { o.Memory, o.MemorySwap = 64<<20, 32<<20 }, want: "minimum memoryswap limit should be larger than memory limit"},
		{name: "memory-swap without memory", opts: func(o *RunOptions) { o.MemorySwap = 64 << 20 }, want: "always set the memory limit"},
		{name: "memory-swap -2", opts: func(o *RunOptions) { o.Memory, o.MemorySwap = 64<<20, -2 }, want: "memory-swap -2"},
		{name: "tiny memory", opts: func(o *RunOptions) { o.Memory = 1 << 20 }, want: "minimum memory limit allowed is 6MB"},
		{name: "negative memory", opts: func(o *RunOptions) { o.Memory = -1 }, want: "minimum memory limit allowed is 6MB"},
		{name: "reservation above memory", opts: func(o *RunOptions) { o.Memory, o.MemoryReservation = 64<<20, 128<<20 }, want: "memory reservation limit"},
		{name: "negative cpus", opts: func(o *RunOptions) { o.CPUs = -1 }, want: "cpus -1"},
		{name: "tiny cpus", opts: func(o *RunOptions) { o.CPUs = 0.001 }, want: "less than 1ms"},
		{name: "bad cpuset", opts: func(o *RunOptions) { o.CpusetCpus = "0;1" }, want: "cpuset-cpus"},
		{name: "negative shm", opts: func(o *RunOptions) { o.ShmSize = -1 }, want: "shm-size -1"},
		{name: "unknown ulimit", opts: func(o *RunOptions) { o.Ulimits = []specs.POSIXRlimit{{Type: "RLIMIT_FOO"}} }, want: `ulimit "RLIMIT_FOO": unknown rlimit`},
		{name: "ulimit soft above hard", opts: func(o *RunOptions) { o.Ulimits = []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 2, Hard: 1}} }, want: "soft limit 2 above hard limit 1"},
		{name: "relative workdir", opts: func(o *RunOptions) { o.WorkingDir = "tmp" }, want: "needs to be an absolute path"},
		{name: "bad stop signal", opts: func(o *RunOptions) { o.StopSignal = "SIGFOO" }, want: `signal "SIGFOO"`},
		{name: "bad image stop signal", img: ocispec.ImageConfig{Cmd: []string{"sh"}, StopSignal: "65"}, want: `signal "65"`},
		{name: "bad expose", opts: func(o *RunOptions) { o.ExposedPorts = []string{"80/icmp"} }, want: `port "80/icmp"`},
		{name: "bad network mode", opts: func(o *RunOptions) { o.NetworkNS = "container:web" }, want: `network "container:web"`},
		{name: "mappings without gid mappings", opts: func(o *RunOptions) {
			o.UIDMappings = []specs.LinuxIDMapping{{HostID: 1000, Size: 1}}
		}, want: "uid and gid mappings go together"},
		{name: "device relative path", opts: func(o *RunOptions) {
			o.Devices = []Device{{LinuxDevice: specs.LinuxDevice{Path: "dev/sda", Type: "b", Major: 8}}}
		}, want: `device "dev/sda"`},
		{name: "device bad permissions", opts: func(o *RunOptions) {
			o.Devices = []Device{{LinuxDevice: specs.LinuxDevice{Path: "/dev/sda", Type: "b", Major: 8}, Permissions: "rwx"}}
		}, want: `permissions "rwx"`},
		{name: "device repeated permission", opts: func(o *RunOptions) {
			o.Devices = []Device{{LinuxDevice: specs.LinuxDevice{Path: "/dev/sda", Type: "b", Major: 8}, Permissions: "rr"}}
		}, want: `permissions "rr"`},
		{name: "init without binary", opts: func(o *RunOptions) { o.Init = true }, want: "--init"},
		{name: "no default seccomp", opts: func(o *RunOptions) { o.DefaultSeccomp = nil }, want: "DefaultSeccomp is nil"},
		{name: "oom score", opts: func(o *RunOptions) { o.OOMScoreAdj = 1001 }, want: "oom-score-adj 1001"},
		{name: "bad id", opts: func(o *RunOptions) { o.ID = "../escape" }, want: `container id "../escape"`},
		{name: "relative masked path", opts: func(o *RunOptions) { o.MaskedPaths = []string{"proc/x"} }, want: `masked path "proc/x"`},
		{name: "relative hosts file", opts: func(o *RunOptions) { o.HostsPath = "hosts" }, want: `/etc/hosts source "hosts"`},
		{name: "env without name", opts: func(o *RunOptions) { o.Env = []string{"=x"} }, want: `environment variable "=x"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			opts := baseOptions()
			if c.opts != nil {
				c.opts(&opts)
			}
			img := c.img
			if img.Cmd == nil && img.Entrypoint == nil && c.name != "no command" {
				img.Cmd = []string{"sh"}
			}
			users := testUsers
			if c.users != nil {
				users = *c.users
			}
			s, _, err := FromImage(img, opts, users)
			if err == nil {
				t.Fatalf("FromImage succeeded: args %q", s.Process.Args)
			}
			if !errdefs.IsInvalidArgument(err) {
				t.Errorf("error %v is not InvalidArgument", err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not contain %q", err, c.want)
			}
		})
	}
}
