package spec

import (
	"reflect"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestArgs(t *testing.T) {
	img := ocispec.ImageConfig{Entrypoint: []string{"/ep", "-x"}, Cmd: []string{"serve", "--port=80"}}
	for _, c := range []struct {
		name string
		img  ocispec.ImageConfig
		opts RunOptions
		want []string
	}{
		{"image", img, RunOptions{}, []string{"/ep", "-x", "serve", "--port=80"}},
		{"cmd replaces image cmd", img, RunOptions{Cmd: []string{"shell"}}, []string{"/ep", "-x", "shell"}},
		{"entrypoint drops image cmd", img, RunOptions{Entrypoint: strs("/bin/sh")}, []string{"/bin/sh"}},
		{"entrypoint with cmd", img, RunOptions{Entrypoint: strs("/bin/sh"), Cmd: []string{"-c", "true"}}, []string{"/bin/sh", "-c", "true"}},
		{"empty entrypoint with cmd", img, RunOptions{Entrypoint: strs(""), Cmd: []string{"ls"}}, []string{"ls"}},
		{"cmd only image", ocispec.ImageConfig{Cmd: []string{"sh"}}, RunOptions{Cmd: []string{"echo", "hi"}}, []string{"echo", "hi"}},
		{"entrypoint only image", ocispec.ImageConfig{Entrypoint: []string{"/init"}}, RunOptions{}, []string{"/init"}},
	} {
		got, err := args(c.img, c.opts)
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: args = %q, %v; want %q", c.name, got, err, c.want)
		}
	}
	// The image's slices are not changed by the merge.
	orig := ocispec.ImageConfig{Entrypoint: make([]string, 1, 8), Cmd: []string{"a"}}
	orig.Entrypoint[0] = "/ep"
	if _, err := args(orig, RunOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := orig.Entrypoint[:2]; got[1] != "" {
		t.Errorf("args wrote into the image's entrypoint array: %q", got)
	}
}

func TestEnvironment(t *testing.T) {
	img := ocispec.ImageConfig{Env: []string{"PATH=/img/bin", "A=img", "B=img", "NOEQUALS"}}
	for _, c := range []struct {
		name string
		opts RunOptions
		want []string
	}{
		{"image only", RunOptions{}, []string{"PATH=/img/bin", "HOSTNAME=h", "A=img", "B=img"}},
		{"opts first, then the image's others", RunOptions{Env: []string{"C=opt", "A=opt"}}, []string{"PATH=/img/bin", "HOSTNAME=h", "C=opt", "A=opt", "B=img"}},
		{"bare key unsets", RunOptions{Env: []string{"A", "PATH"}}, []string{"HOSTNAME=h", "B=img"}},
		{"tty term", RunOptions{TTY: true}, []string{"PATH=/img/bin", "HOSTNAME=h", "TERM=xterm", "A=img", "B=img"}},
		{"term replaced in place", RunOptions{TTY: true, Env: []string{"TERM=dumb"}}, []string{"PATH=/img/bin", "HOSTNAME=h", "TERM=dumb", "A=img", "B=img"}},
		{"unset then set again", RunOptions{Env: []string{"HOSTNAME", "HOSTNAME=x"}}, []string{"PATH=/img/bin", "HOSTNAME=x", "A=img", "B=img"}},
		{"value with =", RunOptions{Env: []string{"Q=a=b"}}, []string{"PATH=/img/bin", "HOSTNAME=h", "Q=a=b", "A=img", "B=img"}},
		{"a key twice: the later value", RunOptions{Env: []string{"C=file", "D=1", "C=flag"}}, []string{"PATH=/img/bin", "HOSTNAME=h", "C=flag", "D=1", "A=img", "B=img"}},
	} {
		got, err := environment(img, c.opts, "h")
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: environment = %q, %v; want %q", c.name, got, err, c.want)
		}
	}
	got, _ := environment(ocispec.ImageConfig{}, RunOptions{}, "h")
	if want := []string{"PATH=" + DefaultPathEnv, "HOSTNAME=h"}; !reflect.DeepEqual(got, want) {
		t.Errorf("environment of an image without PATH = %q, want %q", got, want)
	}
}

func TestWorkingDir(t *testing.T) {
	for _, c := range []struct {
		img, opt, want string
	}{
		{"", "", "/"},
		{"/srv", "", "/srv"},
		{"srv/app", "", "/srv/app"},
		{"../../x", "", "/x"},
		{"/srv", "/tmp/", "/tmp"},
	} {
		got, err := workingDir(ocispec.ImageConfig{WorkingDir: c.img}, RunOptions{WorkingDir: c.opt})
		if err != nil || got != c.want {
			t.Errorf("workingDir(%q, %q) = %q, %v; want %q", c.img, c.opt, got, err, c.want)
		}
	}
}

func TestCapabilities(t *testing.T) {
	for _, c := range []struct {
		name      string
		add, drop []string
		want      []string
	}{
		{"defaults", nil, nil, DockerCapabilities},
		{"drop all", nil, []string{"all"}, []string{}},
		{"drop all add some", []string{"cap_kill", "KILL", "sys_ptrace"}, []string{"ALL"}, []string{"CAP_KILL", "CAP_SYS_PTRACE"}},
		{"add all and drop all", []string{"ALL"}, []string{"ALL"}, AllCapabilities},
		{"add existing", []string{"CHOWN"}, nil, DockerCapabilities},
		{"drop one add one", []string{"NET_ADMIN"}, []string{"AUDIT_WRITE"}, append(append([]string{}, DockerCapabilities[:13]...), "CAP_NET_ADMIN")},
	} {
		got, err := capabilities(RunOptions{CapAdd: c.add, CapDrop: c.drop})
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: capabilities = %q, %v; want %q", c.name, got, err, c.want)
		}
	}
	got, _ := capabilities(RunOptions{Privileged: true, CapDrop: []string{"ALL"}})
	if !reflect.DeepEqual(got, AllCapabilities) {
		t.Errorf("privileged capabilities = %q", got)
	}
	got[0] = "CAP_CHANGED"
	if AllCapabilities[0] != "CAP_CHOWN" {
		t.Errorf("a result shares storage with AllCapabilities")
	}
}

func TestParseSignal(t *testing.T) {
	for _, c := range []struct {
		in   string
		name string
		num  int
	}{
		{"SIGTERM", "SIGTERM", 15}, {"term", "SIGTERM", 15}, {"15", "SIGTERM", 15},
		{"sigkill", "SIGKILL", 9}, {"IOT", "SIGABRT", 6}, {"SIGPOLL", "SIGIO", 29},
		{"RTMIN", "SIGRTMIN", 34}, {"SIGRTMIN+3", "SIGRTMIN+3", 37}, {"SIGRTMAX-1", "SIGRTMIN+29", 63},
		{"SIGRTMAX", "SIGRTMAX", 64}, {"40", "SIGRTMIN+6", 40}, {"33", "33", 33},
	} {
		name, num, err := ParseSignal(c.in)
		if err != nil || name != c.name || num != c.num {
			t.Errorf("ParseSignal(%q) = %q, %d, %v; want %q, %d", c.in, name, num, err, c.name, c.num)
		}
	}
	for _, bad := range []string{"", "0", "-1", "65", "SIGFOO", "SIGRTMIN+0", "SIGRTMIN+30", "SIGRTMIN-1", "SIGRTMIN+03", "RTMAX+1", "SIG"} {
		if name, num, err := ParseSignal(bad); err == nil {
			t.Errorf("ParseSignal(%q) = %q, %d, want an error", bad, name, num)
		}
	}
}

func TestExposedPorts(t *testing.T) {
	got, err := exposedPorts(map[string]struct{}{"80/tcp": {}, "bad/xyz": {}, "53/udp": {}}, []string{"8000-8002", "80", "53/UDP", "9/sctp"})
	want := []string{"9/sctp", "53/udp", "80/tcp", "8000/tcp", "8001/tcp", "8002/tcp"}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("exposedPorts = %q, %v; want %q", got, err, want)
	}
	for _, bad := range []string{"0", "65536", "80-79", "x", "/tcp", "1-2-3"} {
		if _, err := exposedPorts(nil, []string{bad}); err == nil {
			t.Errorf("exposedPorts(%q) succeeded", bad)
		}
	}
	all, err := exposedPorts(nil, []string{"1-65535/udp"})
	if err != nil || len(all) != 65535 {
		t.Errorf("the whole port range: %d ports, %v", len(all), err)
	}
}

func TestImageVolumes(t *testing.T) {
	vols := map[string]struct{}{"/data": {}, "/var/log/": {}, "cache": {}, "/": {}}
	got := ImageVolumes(vols, []specs.Mount{{Destination: "/data/"}})
	if want := []string{"/cache", "/var/log"}; !reflect.DeepEqual(got, want) {
		t.Errorf("ImageVolumes = %q, want %q", got, want)
	}
}

// User mounts come after the defaults, parents first, in the order given
// otherwise; they replace defaults at their destination, and a /dev mount
// replaces every default under /dev.
func TestMountOrderAndOverride(t *testing.T) {
	opts := baseOptions()
	opts.HostsPath, opts.HostnamePath, opts.ResolvConfPath = "", "", ""
	opts.Mounts = []specs.Mount{
		{Destination: "/a/b/c", Type: "bind", Source: "/1"},
		{Destination: "/dev", Type: "bind", Source: "/dev"},
		{Destination: "/a", Type: "bind", Source: "/2"},
		{Destination: "/z/y", Type: "bind", Source: "/3"},
		{Destination: "/proc", Type: "bind", Source: "/4"},
		{Destination: "/a/b", Type: "bind", Source: "/5"},
	}
	s, _, err := FromImage(busybox, opts, testUsers)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range s.Mounts {
		got = append(got, m.Destination+"="+m.Source)
	}
	want := []string{"/sys=sysfs", "/sys/fs/cgroup=cgroup", "/dev=/dev", "/a=/2", "/proc=/4", "/z/y=/3", "/a/b=/5", "/a/b/c=/1"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("mounts = %q, want %q", got, want)
	}
	// The caller's options are not shared with the spec.
	s.Mounts[2].Options = append(s.Mounts[2].Options, "x")
	opts.Mounts[1].Options = []string{"y"}
	if len(s.Mounts[2].Options) != 1 {
		t.Errorf("spec mount options follow the caller's")
	}

	// A mount at /etc/hosts wins over HostsPath.
	opts = baseOptions()
	opts.Mounts = []specs.Mount{{Destination: "/etc/hosts", Type: "bind", Source: "/mine", Options: []string{"rbind", "ro"}}}
	s, _, err = FromImage(busybox, opts, testUsers)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, m := range s.Mounts {
		if m.Destination == "/etc/hosts" {
			n++
			if m.Source != "/mine" {
				t.Errorf("/etc/hosts from %s, want the user's /mine", m.Source)
			}
		}
	}
	if n != 1 {
		t.Errorf("%d mounts at /etc/hosts", n)
	}
}
