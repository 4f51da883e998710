package spec

import (
	"slices"
	"testing"

	"github.com/berth-project/berth/internal/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestExecProcess(t *testing.T) {
	base := &specs.Process{
		Args: []string{"sh"}, Cwd: "/srv", Env: []string{"PATH=/bin", "A=1"},
		User:         specs.User{UID: 1000, GID: 1000},
		Capabilities: &specs.LinuxCapabilities{Bounding: []string{"CAP_CHOWN"}},
	}
	users := Users{Passwd: []byte("root:x:0:0::/root:/bin/sh\nweb:x:33:33::/var/www:/bin/sh\n"), Group: []byte("root:x:0:\nweb:x:33:\n")}
	p, err := ExecProcess(base, ExecOptions{Args: []string{"id"}, Env: []string{"A=2", "B=3"}, User: "web", WorkingDir: "/tmp/", TTY: true}, users)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(p.Args, []string{"id"}) || p.Cwd != "/tmp" || !p.Terminal || p.User.UID != 33 || p.User.GID != 33 {
		t.Fatalf("process %+v", p)
	}
	if !slices.Equal(p.Env, []string{"PATH=/bin", "A=2", "B=3", "TERM=xterm"}) {
		t.Fatalf("env %v", p.Env)
	}
	if base.Env[1] != "A=1" || base.Args[0] != "sh" {
		t.Fatal("ExecProcess changed the base process")
	}
	p, err = ExecProcess(base, ExecOptions{Args: []string{"id"}, Privileged: true}, users)
	if err != nil || len(p.Capabilities.Bounding) != len(AllCapabilities) || p.User.UID != 1000 {
		t.Fatalf("privileged exec: %+v, %v", p, err)
	}
	for _, o := range []ExecOptions{{}, {Args: []string{"x"}, WorkingDir: "rel"}, {Args: []string{"x"}, User: "nobody"}, {Args: []string{"x"}, Env: []string{"=v"}}} {
		if _, err := ExecProcess(base, o, users); !errdefs.IsInvalidArgument(err) {
			t.Errorf("ExecProcess(%+v): %v, want InvalidArgument", o, err)
		}
	}
}
