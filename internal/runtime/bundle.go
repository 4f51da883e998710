package runtime

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/linux/caps"
	"github.com/berth-project/berth/internal/linux/ns"
	"github.com/berth-project/berth/internal/runtime/initproc"
)

// LoadBundle reads and validates bundle/config.json. The bundle path is made
// absolute; the rootfs path is returned absolute too.
func LoadBundle(bundle string) (*specs.Spec, string, string, error) {
	abs, err := filepath.Abs(bundle)
	if err != nil {
		return nil, "", "", fmt.Errorf("bundle %s: %w", bundle, err)
	}
	path := filepath.Join(abs, "config.json")
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, "", "", fmt.Errorf("bundle %s has no config.json: %w", abs, errdefs.ErrInvalidArgument)
		}
		return nil, "", "", fmt.Errorf("read %s: %w", path, err)
	}
	var s specs.Spec
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&s); err != nil {
		return nil, "", "", fmt.Errorf("parse %s: %v: %w", path, err, errdefs.ErrInvalidArgument)
	}
	rootfs, err := Validate(&s, abs)
	if err != nil {
		return nil, "", "", fmt.Errorf("%s: %w", path, err)
	}
	return &s, abs, rootfs, nil
}

func invalid(format string, args ...any) error {
	return fmt.Errorf(format+": %w", append(args, errdefs.ErrInvalidArgument)...)
}

// Validate checks that s can be run by berth-runtime and returns the
// absolute rootfs path. Every error names the field at fault.
func Validate(s *specs.Spec, bundle string) (string, error) {
	if s.Version == "" {
		return "", invalid("ociVersion is empty")
	}
	if !strings.HasPrefix(s.Version, "1.") {
		return "", invalid("ociVersion %q is not supported (want 1.x)", s.Version)
	}
	if s.Root == nil || s.Root.Path == "" {
		return "", invalid("root.path is empty")
	}
	rootfs := s.Root.Path
	if !filepath.IsAbs(rootfs) {
		rootfs = filepath.Join(bundle, rootfs)
	}
	fi, err := os.Stat(rootfs)
	if err != nil {
		return "", invalid("root.path %s does not exist", rootfs)
	}
	if !fi.IsDir() {
		return "", invalid("root.path %s is not a directory", rootfs)
	}
	if s.Process == nil {
		return "", invalid("process is missing")
	}
	if err := ValidateProcess(s.Process); err != nil {
		return "", err
	}
	if s.Linux == nil {
		return "", invalid("linux section is missing")
	}
	if err := ns.Validate(s.Linux.Namespaces); err != nil {
		return "", err
	}
	if !hasNamespace(s, specs.MountNamespace) {
		// The container lives in the runtime's mount namespace (as runc
		// allows): nothing may change the host's view beyond the rootfs.
		if len(s.Linux.MaskedPaths) > 0 || len(s.Linux.ReadonlyPaths) > 0 {
			return "", invalid("linux.maskedPaths and linux.readonlyPaths need a mount namespace")
		}
		if s.Linux.RootfsPropagation != "" {
			return "", invalid("linux.rootfsPropagation needs a mount namespace")
		}
	}
	userns := hasNamespace(s, specs.UserNamespace)
	if (len(s.Linux.UIDMappings) > 0 || len(s.Linux.GIDMappings) > 0) && !userns {
		return "", invalid("linux.uidMappings given without a user namespace")
	}
	if userns && namespacePath(s, specs.UserNamespace) == "" && (len(s.Linux.UIDMappings) == 0 || len(s.Linux.GIDMappings) == 0) {
		return "", invalid("a new user namespace needs linux.uidMappings and linux.gidMappings")
	}
	for _, m := range s.Mounts {
		if m.Destination == "" {
			return "", invalid("mount of %q has no destination", m.Source)
		}
		if strings.Contains(m.Destination, "\x00") {
			return "", invalid("mount destination %q is invalid", m.Destination)
		}
	}
	if err := validateIDMapped(s); err != nil {
		return "", err
	}
	for k := range s.Linux.Sysctl {
		if err := validateSysctl(s, k); err != nil {
			return "", err
		}
	}
	if s.Hostname != "" && !hasNamespace(s, specs.UTSNamespace) {
		return "", invalid("hostname %q needs a UTS namespace", s.Hostname)
	}
	if s.Linux.Seccomp != nil && s.Linux.Seccomp.DefaultAction == "" {
		return "", invalid("linux.seccomp.defaultAction is empty")
	}
	for clock := range s.Linux.TimeOffsets {
		if clock != "monotonic" && clock != "boottime" {
			return "", invalid("linux.timeOffsets: clock %q: only monotonic and boottime have offsets", clock)
		}
	}
	if len(s.Linux.TimeOffsets) > 0 && (!hasNamespace(s, specs.TimeNamespace) || namespacePath(s, specs.TimeNamespace) != "") {
		return "", invalid("linux.timeOffsets need a new time namespace")
	}
	if s.Linux.IntelRdt != nil {
		return "", fmt.Errorf("linux.intelRdt: Intel RDT is not supported: %w", errdefs.ErrNotImplemented)
	}
	if s.Linux.MountLabel != "" && !selinuxEnabled() {
		return "", invalid("linux.mountLabel %q: SELinux is not enabled on this host", s.Linux.MountLabel)
	}
	if h := s.Hooks; h != nil {
		for _, list := range [][]specs.Hook{h.Prestart, h.CreateRuntime, h.CreateContainer, h.StartContainer, h.Poststart, h.Poststop} {
			for _, hk := range list {
				if !filepath.IsAbs(hk.Path) {
					return "", invalid("hook path %q is not absolute", hk.Path)
				}
				if hk.Timeout != nil && *hk.Timeout <= 0 {
					return "", invalid("hook %s: timeout must be positive", hk.Path)
				}
			}
		}
	}
	return rootfs, nil
}

// ValidateProcess checks a process (of a spec, or of `exec -p`).
func ValidateProcess(p *specs.Process) error {
	if len(p.Args) == 0 && p.CommandLine == "" {
		return invalid("process.args is empty")
	}
	if p.Cwd == "" || !filepath.IsAbs(p.Cwd) {
		return invalid("process.cwd %q is not an absolute path", p.Cwd)
	}
	if err := caps.Validate(p.Capabilities); err != nil {
		return fmt.Errorf("process.capabilities: %w", err)
	}
	for _, r := range p.Rlimits {
		if _, ok := initproc.RlimitNumber(r.Type); !ok {
			return invalid("process.rlimits: unknown type %q", r.Type)
		}
		if r.Soft > r.Hard {
			return invalid("process.rlimits %s: soft limit %d is above hard limit %d", r.Type, r.Soft, r.Hard)
		}
	}
	if p.ApparmorProfile != "" && !apparmorEnabled() {
		return invalid("process.apparmorProfile %q: AppArmor is not enabled on this host", p.ApparmorProfile)
	}
	if p.SelinuxLabel != "" && !selinuxEnabled() {
		return invalid("process.selinuxLabel %q: SELinux is not enabled on this host", p.SelinuxLabel)
	}
	for _, e := range p.Env {
		if !strings.Contains(e, "=") {
			return invalid("process.env entry %q has no '='", e)
		}
	}
	return nil
}

func apparmorEnabled() bool {
	b, err := os.ReadFile("/sys/module/apparmor/parameters/enabled")
	return err == nil && strings.HasPrefix(string(b), "Y")
}

func selinuxEnabled() bool {
	_, err := os.Stat("/sys/fs/selinux/enforce")
	return err == nil
}

func hasNamespace(s *specs.Spec, t specs.LinuxNamespaceType) bool {
	for _, n := range s.Linux.Namespaces {
		if n.Type == t {
			return true
		}
	}
	return false
}

// namespaceOf returns the path of the namespace of type t and whether the
// spec asks for one at all.
func namespaceOf(s *specs.Spec, t specs.LinuxNamespaceType) (string, bool) {
	for _, n := range s.Linux.Namespaces {
		if n.Type == t {
			return n.Path, true
		}
	}
	return "", false
}

func namespacePath(s *specs.Spec, t specs.LinuxNamespaceType) string {
	for _, n := range s.Linux.Namespaces {
		if n.Type == t {
			return n.Path
		}
	}
	return ""
}

// validateSysctl accepts only sysctls of namespaces the container has its
// own of, as runc does: anything else would change the host.
func validateSysctl(s *specs.Spec, key string) error {
	switch {
	case strings.HasPrefix(key, "fs.mqueue."), strings.HasPrefix(key, "kernel.msg"),
		strings.HasPrefix(key, "kernel.shm"), key == "kernel.sem", key == "kernel.shmmni":
		if hasNamespace(s, specs.IPCNamespace) {
			return nil
		}
		return invalid("sysctl %q needs an IPC namespace", key)
	case strings.HasPrefix(key, "net."):
		if hasNamespace(s, specs.NetworkNamespace) {
			return nil
		}
		return invalid("sysctl %q needs a network namespace", key)
	case key == "kernel.hostname", key == "kernel.domainname":
		if hasNamespace(s, specs.UTSNamespace) {
			return nil
		}
		return invalid("sysctl %q needs a UTS namespace", key)
	}
	return invalid("sysctl %q is not in a namespace of the container: it would change the host", key)
}
