package runtime

import (
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestValidateIDMapped(t *testing.T) {
	maps := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
	userns := []specs.LinuxNamespace{{Type: specs.UserNamespace}, {Type: specs.MountNamespace}}
	for _, c := range []struct {
		name string
		ns   []specs.LinuxNamespace
		m    specs.Mount
		want string // "" for valid
	}{
		{"idmap bind", userns, specs.Mount{Destination: "/d", Type: "bind", Source: "/s", Options: []string{"idmap"}}, ""},
		{"ridmap rbind", userns, specs.Mount{Destination: "/d", Source: "/s", Options: []string{"rbind", "ridmap"}}, ""},
		{"own mappings", userns, specs.Mount{Destination: "/d", Source: "/s", Options: []string{"bind"}, UIDMappings: maps, GIDMappings: maps}, ""},
		{"plain bind without userns", nil, specs.Mount{Destination: "/d", Source: "/s", Options: []string{"bind"}}, ""},
		{"no userns", []specs.LinuxNamespace{{Type: specs.MountNamespace}}, specs.Mount{Destination: "/d", Source: "/s", Options: []string{"bind", "idmap"}}, "needs a user namespace"},
		{"no mount ns", []specs.LinuxNamespace{{Type: specs.UserNamespace}}, specs.Mount{Destination: "/d", Source: "/s", Options: []string{"bind", "idmap"}}, "needs a mount namespace"},
		{"tmpfs", userns, specs.Mount{Destination: "/d", Type: "tmpfs", Source: "tmpfs", Options: []string{"idmap"}}, "bind mounts only"},
		{"uid mappings alone", userns, specs.Mount{Destination: "/d", Source: "/s", Options: []string{"bind"}, UIDMappings: maps}, "given together"},
	} {
		s := &specs.Spec{Linux: &specs.Linux{Namespaces: c.ns}, Mounts: []specs.Mount{c.m}}
		err := validateIDMapped(s)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "/d")):
			t.Errorf("%s: error %v, want one naming /d with %q", c.name, err, c.want)
		}
	}
}
