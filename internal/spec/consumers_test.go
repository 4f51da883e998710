package spec

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-project/berth/internal/linux/seccomp"
	"github.com/berth-project/berth/internal/runtime"
)

// allows reports whether some rule of p allows the syscall unconditionally.
func allows(p *specs.LinuxSeccomp, name string) bool {
	for _, sc := range p.Syscalls {
		if sc.Action == specs.ActAllow && len(sc.Args) == 0 && slices.Contains(sc.Names, name) {
			return true
		}
	}
	return false
}

// With the real default profile, the profile follows the final bounding
// set (as docker's setupSeccomp does) and compiles.
func TestRealDefaultSeccomp(t *testing.T) {
	run := func(opts RunOptions) *specs.LinuxSeccomp {
		t.Helper()
		opts.DefaultSeccomp = seccomp.DefaultProfile
		s, _, err := FromImage(busybox, opts, testUsers)
		if err != nil {
			t.Fatal(err)
		}
		if want := seccomp.DefaultProfile(s.Process.Capabilities.Bounding); !reflect.DeepEqual(s.Linux.Seccomp, want) {
			t.Errorf("seccomp is not the default profile for the bounding set %q", s.Process.Capabilities.Bounding)
		}
		if _, _, err := seccomp.Compile(s.Linux.Seccomp); err != nil {
			t.Errorf("the profile does not compile: %v", err)
		}
		return s.Linux.Seccomp
	}
	plain := run(baseOptions())
	if allows(plain, "mount") || allows(plain, "umount2") {
		t.Errorf("the default profile allows mount or umount2 without CAP_SYS_ADMIN")
	}
	if !allows(plain, "read") {
		t.Errorf("the default profile does not allow read")
	}
	opts := baseOptions()
	opts.CapAdd = []string{"SYS_ADMIN"}
	admin := run(opts)
	if !allows(admin, "mount") || !allows(admin, "umount2") {
		t.Errorf("--cap-add SYS_ADMIN: the profile does not allow mount and umount2")
	}
}

// Every golden spec is one berth-runtime accepts.
func TestGoldenSpecsValidate(t *testing.T) {
	for _, c := range goldenCases {
		t.Run(c.name, func(t *testing.T) {
			s, _, err := c.run()
			if err != nil {
				t.Fatal(err)
			}
			bundle := t.TempDir()
			if err := os.Mkdir(filepath.Join(bundle, "rootfs"), 0o755); err != nil {
				t.Fatal(err)
			}
			for i, n := range s.Linux.Namespaces {
				if n.Path != "" {
					// A joined namespace's path is the host's business:
					// point it at one that exists here.
					if n.Type != specs.NetworkNamespace {
						t.Fatalf("no stand-in for a joined %s namespace", n.Type)
					}
					s.Linux.Namespaces[i].Path = "/proc/self/ns/net"
				}
			}
			if _, err := runtime.Validate(s, bundle); err != nil {
				t.Errorf("berth-runtime refuses the spec: %v", err)
			}
		})
	}
}
