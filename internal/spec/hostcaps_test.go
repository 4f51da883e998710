package spec

import (
	"slices"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestHostCapabilities: --privileged, --cap-add ALL and exec --privileged
// grant the host's capabilities, not every one Linux defines (a sandbox
// without CAP_SYS_RESOURCE in its bounding set cannot give it).
func TestHostCapabilities(t *testing.T) {
	host := slices.DeleteFunc(slices.Clone(AllCapabilities), func(c string) bool { return c == "CAP_SYS_RESOURCE" })
	for _, o := range []RunOptions{
		{Privileged: true, HostCapabilities: host},
		{CapAdd: []string{"ALL"}, HostCapabilities: host},
	} {
		got, err := capabilities(o)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, host) {
			t.Errorf("privileged %v cap-add %q: %q, want the host's %q", o.Privileged, o.CapAdd, got, host)
		}
	}
	got, err := capabilities(RunOptions{Privileged: true})
	if err != nil || !slices.Equal(got, AllCapabilities) {
		t.Errorf("privileged without HostCapabilities: %q %v, want every capability", got, err)
	}
	p, err := ExecProcess(&specs.Process{Args: []string{"sh"}}, ExecOptions{Args: []string{"id"}, Privileged: true, HostCapabilities: host}, Users{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(p.Capabilities.Effective, host) || !slices.Equal(p.Capabilities.Bounding, host) {
		t.Errorf("exec --privileged: %+v, want the host's capabilities", p.Capabilities)
	}
}
