package spec

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// A busybox-like /etc/passwd and /etc/group with a few more users.
var testUsers = Users{
	Passwd: []byte(`root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
www:x:33:33:www-data:/var/www:/bin/false
app:x:1000:1000::/home/app:/bin/sh
nobody:x:65534:65534:nobody:/home:/bin/false
`),
	Group: []byte(`root:x:0:
daemon:x:1:
wheel:x:10:root
www-data:x:33:
staff:x:50:www,app
video:x:44:app
app:x:1000:
nogroup:x:65534:
`),
}

const testID = "4f2c1b9a7e3d5c8b0a1f2e3d4c5b6a7980f1e2d3c4b5a69788f9e0d1c2b3a4f5"

var busybox = ocispec.ImageConfig{
	Env: []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
	Cmd: []string{"sh"},
}

// testSeccomp stands for internal/linux/seccomp.DefaultProfile in golden
// files (whose real output depends on the host's kernel and architecture):
// like the real profile, what it allows depends on the bounding set.
func testSeccomp(bounding []string) *specs.LinuxSeccomp {
	names := []string{"read", "write", "exit_group"}
	if slices.Contains(bounding, "CAP_SYS_ADMIN") {
		names = append(names, "mount")
	}
	return &specs.LinuxSeccomp{
		DefaultAction: specs.ActErrno,
		Architectures: []specs.Arch{specs.ArchX86_64},
		Syscalls:      []specs.LinuxSyscall{{Names: names, Action: specs.ActAllow}},
	}
}

// baseOptions are the options every engine call has: an ID, the network
// files and the default seccomp profile.
func baseOptions() RunOptions {
	return RunOptions{
		ID:             testID,
		HostsPath:      "/run/berth/containers/" + testID + "/hosts",
		HostnamePath:   "/run/berth/containers/" + testID + "/hostname",
		ResolvConfPath: "/run/berth/containers/" + testID + "/resolv.conf",
		DefaultSeccomp: testSeccomp,
		CgroupNS:       "private",
	}
}

func strs(s ...string) *[]string { return &s }

type goldenCase struct {
	name  string
	img   ocispec.ImageConfig
	opts  func(*RunOptions)
	users Users
}

var goldenCases = []goldenCase{
	{name: "busybox", img: busybox},
	{name: "image-full", img: ocispec.ImageConfig{
		User:         "www",
		ExposedPorts: map[string]struct{}{"80/tcp": {}, "443/tcp": {}},
		Env:          []string{"PATH=/usr/local/bin:/usr/bin:/bin", "NGINX_VERSION=1.25.3", "LANG=C.UTF-8"},
		Entrypoint:   []string{"/docker-entrypoint.sh"},
		Cmd:          []string{"nginx", "-g", "daemon off;"},
		Volumes:      map[string]struct{}{"/var/cache/nginx": {}},
		WorkingDir:   "/srv/www",
		Labels:       map[string]string{"maintainer": "nginx", "version": "1"},
		StopSignal:   "SIGQUIT",
	}, opts: func(o *RunOptions) {
		o.Env = []string{"LANG=en_US.UTF-8", "EXTRA=1", "HOSTNAME=web"}
		o.Labels = map[string]string{"version": "2"}
		o.ExposedPorts = []string{"8080", "53/udp"}
		o.Mounts = []specs.Mount{{Destination: "/var/cache/nginx", Type: "bind", Source: "/var/lib/berth/volumes/anon1/_data", Options: []string{"rbind", "rprivate"}}}
	}},
	{name: "entrypoint-override", img: ocispec.ImageConfig{
		Entrypoint: []string{"/docker-entrypoint.sh"}, Cmd: []string{"nginx"}, WorkingDir: "relative/dir",
	}, opts: func(o *RunOptions) {
		o.Entrypoint = strs("/bin/echo")
		o.Cmd = []string{"hello", "world"}
		o.Hostname, o.Domainname = "web", "example.org"
		o.StopSignal = "9"
	}},
	{name: "user-uid-gid", img: busybox, opts: func(o *RunOptions) {
		o.User = "1000:44"
		o.GroupAdd = []string{"wheel", "4242"}
	}},
	{name: "user-name-group", img: busybox, opts: func(o *RunOptions) {
		o.User = "app:staff"
	}},
	{name: "user-name-groups", img: busybox, opts: func(o *RunOptions) {
		o.User = "app"
		o.GroupAdd = []string{"daemon"}
	}},
	{name: "user-unknown-uid", img: busybox, opts: func(o *RunOptions) {
		o.User = "4000"
	}, users: Users{}},
	{name: "privileged", img: busybox, opts: func(o *RunOptions) {
		o.Privileged = true
		o.Devices = []Device{
			{LinuxDevice: specs.LinuxDevice{Path: "/dev/null", Type: "c", Major: 1, Minor: 3}},
			{LinuxDevice: specs.LinuxDevice{Path: "/dev/sda", Type: "b", Major: 8, Minor: 0}},
		}
	}},
	{name: "cap-add-all-drop", img: busybox, opts: func(o *RunOptions) {
		o.CapAdd = []string{"all"}
		o.CapDrop = []string{"sys_admin", "CAP_NET_ADMIN"}
	}},
	{name: "cap-drop-all-add", img: busybox, opts: func(o *RunOptions) {
		o.CapDrop = []string{"ALL"}
		o.CapAdd = []string{"net_bind_service", "Chown"}
	}},
	{name: "cap-add-drop", img: busybox, opts: func(o *RunOptions) {
		o.CapAdd = []string{"SYS_ADMIN", "chown"}
		o.CapDrop = []string{"NET_RAW", "mknod"}
	}},
	{name: "read-only-tmpfs", img: busybox, opts: func(o *RunOptions) {
		o.ReadOnly = true
		o.Mounts = []specs.Mount{
			{Destination: "/run/lock", Type: "tmpfs", Source: "tmpfs", Options: []string{"noexec", "nosuid", "nodev", "rprivate", "size=1m"}},
			{Destination: "/tmp", Type: "tmpfs", Source: "tmpfs", Options: []string{"noexec", "nosuid", "nodev", "rprivate"}},
			{Destination: "/run", Type: "tmpfs", Source: "tmpfs", Options: []string{"noexec", "nosuid", "nodev", "rprivate"}},
		}
	}},
	{name: "resources", img: busybox, opts: func(o *RunOptions) {
		o.Memory = 256 << 20
		o.MemoryReservation = 128 << 20
		o.CPUs = 1.5
		o.CPUShares = 512
		o.CpusetCpus, o.CpusetMems = "0-1", "0"
		o.PidsLimit = 100
		o.Ulimits = []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 1024, Hard: 4096}}
		o.ShmSize = 128 << 20
		o.OOMScoreAdj = 500
		o.Devices = []Device{{LinuxDevice: specs.LinuxDevice{Path: "/dev/fuse", Type: "c", Major: 10, Minor: 229}, Permissions: "rw"}}
		o.Sysctls = map[string]string{"net.core.somaxconn": "1024", "kernel.shmmax": "68719476736"}
		o.CgroupParent = "machine.slice"
		o.NoNewPrivileges = true
		o.Annotations = map[string]string{"org.example/owner": "ops"}
	}},
	{name: "memory-swap-unlimited", img: busybox, opts: func(o *RunOptions) {
		o.Memory = 64 << 20
		o.MemorySwap = -1
		o.PidsLimit = -1
	}},
	{name: "init", img: busybox, opts: func(o *RunOptions) {
		o.Init = true
		o.InitPath = "/usr/libexec/berth/catatonit"
	}},
	{name: "host-network-pid", img: busybox, opts: func(o *RunOptions) {
		o.NetworkNS = "host"
		o.PIDNS = "host"
		o.IPCNS = "host"
		o.UTSNS = "host"
		o.CgroupNS = "host"
		o.Init = true // ignored: no pid namespace of its own
		o.InitPath = "/usr/libexec/berth/catatonit"
	}},
	{name: "joined-namespaces-userns", img: busybox, opts: func(o *RunOptions) {
		o.NetworkNS = "/run/netns/berth-test"
		o.IPCNS = "none"
		o.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
		o.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
	}},
	{name: "tty", img: busybox, opts: func(o *RunOptions) {
		o.TTY, o.OpenStdin = true, true
		o.Env = []string{"TERM=screen", "PATH"}
		o.WorkingDir = "/tmp/../root"
		o.SeccompUnconfined = true
	}},
}

// run is FromImage for a golden case, with the test users unless the case
// has its own.
func (c goldenCase) run() (*specs.Spec, Result, error) {
	opts := baseOptions()
	if c.opts != nil {
		c.opts(&opts)
	}
	users := testUsers
	if c.users.Passwd != nil || c.users.Group != nil || c.name == "user-unknown-uid" {
		users = c.users
	}
	return FromImage(c.img, opts, users)
}

// goldenRun is what a golden file holds.
type goldenRun struct {
	Spec   *specs.Spec `json:"spec"`
	Result Result      `json:"result"`
}

func TestFromImageGolden(t *testing.T) {
	for _, c := range goldenCases {
		t.Run(c.name, func(t *testing.T) {
			s, res, err := c.run()
			if err != nil {
				t.Fatalf("FromImage: %v", err)
			}
			checkProperties(t, c.opts, s)
			got, err := json.MarshalIndent(goldenRun{s, res}, "", "\t")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			path := filepath.Join("testdata", "run", c.name+".json")
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from the output (run go test -update if the change is intended)\ngot:\n%s", path, got)
			}
			var back goldenRun
			if err := json.Unmarshal(want, &back); err != nil {
				t.Fatalf("decode %s: %v", path, err)
			}
			if !reflect.DeepEqual(back.Spec, s) || !reflect.DeepEqual(back.Result, res) {
				t.Errorf("%s does not decode to the spec and result it was made from", path)
			}
		})
	}
}

// checkProperties asserts what must hold of every spec FromImage returns.
func checkProperties(t *testing.T, set func(*RunOptions), s *specs.Spec) {
	t.Helper()
	opts := baseOptions()
	if set != nil {
		set(&opts)
	}
	checkSpec(t, opts, s)
}

func checkSpec(t testing.TB, opts RunOptions, s *specs.Spec) {
	t.Helper()
	p := s.Process
	if len(p.Args) == 0 || p.Args[0] == "" {
		t.Errorf("args %q: no executable", p.Args)
	}
	if len(p.Cwd) == 0 || p.Cwd[0] != '/' {
		t.Errorf("cwd %q is not absolute", p.Cwd)
	}
	c := p.Capabilities
	for _, set := range [][]string{c.Bounding, c.Effective, c.Permitted} {
		for _, name := range set {
			if !slices.Contains(AllCapabilities, name) {
				t.Errorf("capability %q is not a known capability", name)
			}
		}
		if !reflect.DeepEqual(set, c.Bounding) {
			t.Errorf("capability sets differ: %q vs bounding %q", set, c.Bounding)
		}
	}
	if len(c.Inheritable) != 0 || len(c.Ambient) != 0 {
		t.Errorf("inheritable %q / ambient %q capabilities granted", c.Inheritable, c.Ambient)
	}
	if opts.Privileged {
		if len(s.Linux.MaskedPaths) != 0 || len(s.Linux.ReadonlyPaths) != 0 {
			t.Errorf("privileged spec keeps masked %q / read-only %q paths", s.Linux.MaskedPaths, s.Linux.ReadonlyPaths)
		}
	} else {
		for _, m := range dockerMaskedPaths {
			if !slices.Contains(s.Linux.MaskedPaths, m) {
				t.Errorf("masked path %s missing", m)
			}
		}
		for _, m := range dockerReadonlyPaths {
			if !slices.Contains(s.Linux.ReadonlyPaths, m) {
				t.Errorf("read-only path %s missing", m)
			}
		}
		for _, cap := range c.Bounding {
			if !slices.Contains(DockerCapabilities, cap) && !slices.ContainsFunc(opts.CapAdd, func(a string) bool { return a != "" }) {
				t.Errorf("capability %s granted without --cap-add", cap)
			}
		}
	}
	wantSeccomp := !opts.Privileged && !opts.SeccompUnconfined
	if (s.Linux.Seccomp != nil) != wantSeccomp {
		t.Errorf("seccomp present = %v, want %v", s.Linux.Seccomp != nil, wantSeccomp)
	}
	seen := map[string]bool{}
	for _, m := range s.Mounts {
		if len(m.Destination) == 0 || m.Destination[0] != '/' {
			t.Errorf("mount destination %q is not absolute", m.Destination)
		}
		if seen[m.Destination] {
			t.Errorf("two mounts at %s", m.Destination)
		}
		seen[m.Destination] = true
	}
	// A mount never comes before one of its parents' from the same caller.
	for i, m := range s.Mounts {
		for _, later := range s.Mounts[i+1:] {
			if later.Destination != "/" && len(later.Destination) < len(m.Destination) && m.Destination[:len(later.Destination)+1] == later.Destination+"/" {
				t.Errorf("mount %s comes before its parent %s", m.Destination, later.Destination)
			}
		}
	}
	if s.Linux.Resources == nil || len(s.Linux.Resources.Devices) == 0 {
		t.Errorf("no device cgroup rules")
	} else if d := s.Linux.Resources.Devices[0]; !opts.Privileged && (d.Allow || d.Type != "" || d.Access != "rwm") {
		t.Errorf("device rules do not start by denying all: %+v", d)
	}
}
