package seccomp

import (
	"encoding/json"
	"fmt"
	"runtime"
	"slices"

	mobyseccomp "github.com/moby/profiles/seccomp"
	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// goarchToNative maps GOARCH to the architecture names moby's profile uses in
// its includes and excludes (libseccomp's names).
var goarchToNative = map[string]string{
	"386": "x86", "amd64": "amd64", "arm": "arm", "arm64": "arm64",
	"loong64": "loongarch64", "mips64": "mips64", "mips64le": "mipsel64",
	"mipsle": "mipsel", "ppc64": "ppc64", "ppc64le": "ppc64le",
	"riscv64": "riscv64", "s390x": "s390x",
}

// nativeSeccompArch maps those names to the spec's architecture names.
var nativeSeccompArch = map[string]specs.Arch{
	"x86": specs.ArchX86, "amd64": specs.ArchX86_64, "arm": specs.ArchARM,
	"arm64": specs.ArchAARCH64, "loongarch64": specs.ArchLOONGARCH64,
	"mips64": specs.ArchMIPS64, "mipsel64": specs.ArchMIPSEL64, "mipsel": specs.ArchMIPSEL,
	"ppc64": specs.ArchPPC64, "ppc64le": specs.ArchPPC64LE, "riscv64": specs.ArchRISCV64,
	"s390x": specs.ArchS390X,
}

// DefaultProfile returns Docker's default seccomp profile (moby/profiles)
// for a container whose bounding set is caps, on this host: a rule applies
// when every condition of its includes holds and no condition of its excludes
// does, as moby's setupSeccomp decides.
// Architectures are this one and its sub-architectures from the archMap.
func DefaultProfile(caps []string) *specs.LinuxSeccomp {
	return forHost(mobyseccomp.DefaultProfile(), caps)
}

// LoadProfile reads a seccomp profile in docker's format (what
// `--security-opt seccomp=FILE` names: moby's JSON, with includes and
// excludes, or a plain OCI section) for a container whose bounding set is
// caps, on this host.
func LoadProfile(body []byte, caps []string) (*specs.LinuxSeccomp, error) {
	var p mobyseccomp.Seccomp
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, fmt.Errorf("seccomp profile: %w", err)
	}
	if p.DefaultAction == "" {
		return nil, fmt.Errorf("seccomp profile: no defaultAction")
	}
	return forHost(&p, caps), nil
}

// forHost keeps the rules of p that apply to caps on this host.
func forHost(p *mobyseccomp.Seccomp, caps []string) *specs.LinuxSeccomp {
	native := goarchToNative[runtime.GOARCH]
	kernel := hostKernel()

	out := p.LinuxSeccomp
	out.Syscalls = nil
	for _, am := range p.ArchMap {
		if am.Arch == nativeSeccompArch[native] {
			out.Architectures = append([]specs.Arch{am.Arch}, am.SubArches...)
			break
		}
	}
	for _, call := range p.Syscalls {
		if call.Excludes != nil && excluded(call.Excludes, caps, native, kernel) {
			continue
		}
		if call.Includes != nil && !included(call.Includes, caps, native, kernel) {
			continue
		}
		sc := call.LinuxSyscall
		if call.Name != "" && len(sc.Names) == 0 {
			sc.Names = []string{call.Name}
		}
		out.Syscalls = append(out.Syscalls, sc)
	}
	return &out
}

// included reports whether every condition an includes filter states holds:
// this architecture listed, all its caps held, the kernel new enough.
func included(f *mobyseccomp.Filter, caps []string, native string, kernel mobyseccomp.KernelVersion) bool {
	if len(f.Arches) > 0 && !slices.Contains(f.Arches, native) {
		return false
	}
	for _, c := range f.Caps {
		if !slices.Contains(caps, c) {
			return false
		}
	}
	return f.MinKernel == nil || atLeast(kernel, *f.MinKernel)
}

// excluded reports whether any condition an excludes filter states holds:
// this architecture listed, one of its caps held, the kernel new enough.
func excluded(f *mobyseccomp.Filter, caps []string, native string, kernel mobyseccomp.KernelVersion) bool {
	if slices.Contains(f.Arches, native) {
		return true
	}
	for _, c := range f.Caps {
		if slices.Contains(caps, c) {
			return true
		}
	}
	return f.MinKernel != nil && atLeast(kernel, *f.MinKernel)
}

func atLeast(have, want mobyseccomp.KernelVersion) bool {
	return have.Kernel > want.Kernel || (have.Kernel == want.Kernel && have.Major >= want.Major)
}

// hostKernel is the running kernel's version and major revision; an
// unreadable release counts as new enough for every minKernel.
func hostKernel() mobyseccomp.KernelVersion {
	var uts unix.Utsname
	if err := unix.Uname(&uts); err == nil {
		var k mobyseccomp.KernelVersion
		if _, err := fmt.Sscanf(unix.ByteSliceToString(uts.Release[:]), "%d.%d", &k.Kernel, &k.Major); err == nil {
			return k
		}
	}
	return mobyseccomp.KernelVersion{Kernel: ^uint64(0)}
}
