package runtime

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/spec"
)

// bundle makes a bundle directory with an empty rootfs and returns it.
func bundle(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "rootfs"), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func removeNamespace(s *specs.Spec, typ specs.LinuxNamespaceType) {
	var out []specs.LinuxNamespace
	for _, n := range s.Linux.Namespaces {
		if n.Type != typ {
			out = append(out, n)
		}
	}
	s.Linux.Namespaces = out
}

func intp(n int) *int { return &n }

func TestValidateDefault(t *testing.T) {
	b := bundle(t)
	rootfs, err := Validate(spec.Default(), b)
	if err != nil {
		t.Fatalf("Validate(Default()): %v", err)
	}
	// The relative root.path is resolved against the bundle.
	if want := filepath.Join(b, "rootfs"); rootfs != want {
		t.Errorf("rootfs = %s, want %s", rootfs, want)
	}

	// An absolute root.path is taken as it is.
	other := t.TempDir()
	s := spec.Default()
	s.Root.Path = other
	if rootfs, err := Validate(s, b); err != nil || rootfs != other {
		t.Errorf("Validate with absolute root %s = %s, %v", other, rootfs, err)
	}

	// The rootless spec is valid too.
	s = spec.Default()
	spec.Rootless(s, 1000, 1000)
	if _, err := Validate(s, b); err != nil {
		t.Errorf("Validate(Rootless(Default())): %v", err)
	}
}

func TestValidateRejects(t *testing.T) {
	b := bundle(t)
	file := filepath.Join(b, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		change func(s *specs.Spec)
		want   string
	}{
		{"no version", func(s *specs.Spec) { s.Version = "" }, "ociVersion is empty"},
		{"old version", func(s *specs.Spec) { s.Version = "0.5.0" }, `"0.5.0"`},
		{"no root", func(s *specs.Spec) { s.Root = nil }, "root.path is empty"},
		{"empty root path", func(s *specs.Spec) { s.Root.Path = "" }, "root.path is empty"},
		{"missing root", func(s *specs.Spec) { s.Root.Path = "nonexistent" }, filepath.Join(b, "nonexistent") + " does not exist"},
		{"root is a file", func(s *specs.Spec) { s.Root.Path = "file" }, file + " is not a directory"},
		{"no process", func(s *specs.Spec) { s.Process = nil }, "process is missing"},
		{"empty args", func(s *specs.Spec) { s.Process.Args = nil }, "process.args is empty"},
		{"relative cwd", func(s *specs.Spec) { s.Process.Cwd = "home" }, `process.cwd "home"`},
		{"empty cwd", func(s *specs.Spec) { s.Process.Cwd = "" }, `process.cwd ""`},
		{"unknown capability", func(s *specs.Spec) {
			s.Process.Capabilities.Ambient = []string{"CAP_NOPE"}
		}, "CAP_NOPE"},
		{"unknown rlimit", func(s *specs.Spec) {
			s.Process.Rlimits = append(s.Process.Rlimits, specs.POSIXRlimit{Type: "RLIMIT_NOPE"})
		}, "RLIMIT_NOPE"},
		{"soft above hard", func(s *specs.Spec) { s.Process.Rlimits[0].Soft = 2048 }, "soft limit 2048 is above hard limit 1024"},
		{"env without =", func(s *specs.Spec) { s.Process.Env = append(s.Process.Env, "JUSTNAME") }, `"JUSTNAME"`},
		{"no linux", func(s *specs.Spec) { s.Linux = nil }, "linux section is missing"},
		{"duplicate namespace", func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.PIDNamespace})
		}, "listed twice"},
		{"masked paths without mount namespace", func(s *specs.Spec) { removeNamespace(s, specs.MountNamespace) }, "need a mount namespace"},
		{"rootfs propagation without mount namespace", func(s *specs.Spec) {
			removeNamespace(s, specs.MountNamespace)
			s.Linux.MaskedPaths, s.Linux.ReadonlyPaths = nil, nil
			s.Linux.RootfsPropagation = "rslave"
		}, "rootfsPropagation needs a mount namespace"},
		{"uid mappings without user namespace", func(s *specs.Spec) {
			s.Linux.UIDMappings = []specs.LinuxIDMapping{{HostID: 1000, Size: 1}}
		}, "without a user namespace"},
		{"gid mappings without user namespace", func(s *specs.Spec) {
			s.Linux.GIDMappings = []specs.LinuxIDMapping{{HostID: 1000, Size: 1}}
		}, "without a user namespace"},
		{"user namespace without mappings", func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
		}, "needs linux.uidMappings and linux.gidMappings"},
		{"mount without destination", func(s *specs.Spec) {
			s.Mounts = append(s.Mounts, specs.Mount{Source: "/src", Type: "bind"})
		}, `"/src" has no destination`},
		{"non-namespaced sysctl", func(s *specs.Spec) {
			s.Linux.Sysctl = map[string]string{"kernel.panic": "1"}
		}, `"kernel.panic" is not in a namespace`},
		{"net sysctl without network namespace", func(s *specs.Spec) {
			removeNamespace(s, specs.NetworkNamespace)
			s.Linux.Sysctl = map[string]string{"net.ipv4.ip_forward": "1"}
		}, "needs a network namespace"},
		{"ipc sysctl without ipc namespace", func(s *specs.Spec) {
			removeNamespace(s, specs.IPCNamespace)
			s.Linux.Sysctl = map[string]string{"kernel.shmmax": "1"}
		}, "needs an IPC namespace"},
		{"hostname without uts namespace", func(s *specs.Spec) { removeNamespace(s, specs.UTSNamespace) }, `hostname "berth"`},
		{"seccomp without default action", func(s *specs.Spec) { s.Linux.Seccomp = &specs.LinuxSeccomp{} }, "defaultAction is empty"},
		{"time offset of an unknown clock", func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.TimeNamespace})
			s.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{"realtime": {Secs: 10}}
		}, `clock "realtime"`},
		{"time offsets without time namespace", func(s *specs.Spec) {
			s.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{"monotonic": {Secs: 10}}
		}, "need a new time namespace"},
		{"time offsets in a joined time namespace", func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.TimeNamespace, Path: "/proc/self/ns/time"})
			s.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{"boottime": {Secs: 10}}
		}, "need a new time namespace"},
		{"hook with relative path", func(s *specs.Spec) {
			s.Hooks = &specs.Hooks{CreateRuntime: []specs.Hook{{Path: "bin/hook"}}}
		}, `hook path "bin/hook" is not absolute`},
		{"hook with zero timeout", func(s *specs.Spec) {
			s.Hooks = &specs.Hooks{Poststop: []specs.Hook{{Path: "/bin/true", Timeout: intp(0)}}}
		}, "timeout must be positive"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := spec.Default()
			tc.change(s)
			_, err := Validate(s, b)
			if !errors.Is(err, errdefs.ErrInvalidArgument) {
				t.Fatalf("Validate = %v, want InvalidArgument", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Validate error %q does not contain %q", err, tc.want)
			}
		})
	}
}

func TestValidateAccepts(t *testing.T) {
	b := bundle(t)
	for _, tc := range []struct {
		name   string
		change func(s *specs.Spec)
	}{
		{"namespaced sysctls", func(s *specs.Spec) {
			s.Linux.Sysctl = map[string]string{"net.ipv4.ip_forward": "1", "kernel.shmmax": "1", "fs.mqueue.msg_max": "10", "kernel.domainname": "x"}
		}},
		{"time offsets", func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.TimeNamespace})
			s.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{"monotonic": {Secs: 10}, "boottime": {Secs: 20}}
		}},
		{"absolute hooks", func(s *specs.Spec) {
			s.Hooks = &specs.Hooks{Prestart: []specs.Hook{{Path: "/bin/true", Timeout: intp(5)}}, Poststart: []specs.Hook{{Path: "/bin/true"}}}
		}},
		{"command line instead of args", func(s *specs.Spec) { s.Process.Args, s.Process.CommandLine = nil, "sh" }},
		{"joined namespace", func(s *specs.Spec) {
			removeNamespace(s, specs.NetworkNamespace)
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.NetworkNamespace, Path: "/proc/self/ns/net"})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := spec.Default()
			tc.change(s)
			if _, err := Validate(s, b); err != nil {
				t.Errorf("Validate: %v", err)
			}
		})
	}
}

func TestLoadBundle(t *testing.T) {
	b := bundle(t)
	_, _, _, err := LoadBundle(b)
	if !errors.Is(err, errdefs.ErrInvalidArgument) || !strings.Contains(err.Error(), "no config.json") {
		t.Errorf("LoadBundle without config.json = %v", err)
	}
	cfg := filepath.Join(b, "config.json")
	if err := os.WriteFile(cfg, []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := LoadBundle(b); !errors.Is(err, errdefs.ErrInvalidArgument) || !strings.Contains(err.Error(), cfg) {
		t.Errorf("LoadBundle with bad json = %v, want InvalidArgument naming %s", err, cfg)
	}
	if err := os.WriteFile(cfg, []byte(`{"ociVersion":"1.2.0","root":{"path":"rootfs"},"process":{"args":["sh"],"cwd":"/"},"linux":{"namespaces":[{"type":"mount"}]}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	s, abs, rootfs, err := LoadBundle(b)
	if err != nil {
		t.Fatalf("LoadBundle: %v", err)
	}
	if abs != b || rootfs != filepath.Join(b, "rootfs") || s.Process.Args[0] != "sh" {
		t.Errorf("LoadBundle = %s, %s, args %q", abs, rootfs, s.Process.Args)
	}
}
