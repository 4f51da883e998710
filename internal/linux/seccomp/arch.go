package seccomp

import (
	"fmt"
	"runtime"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

//go:generate go run mktables.go -src /usr/src/linux-source-6.12.tar.xz -o zsyscalls_x86.go

// x32Bit is set in seccomp_data.nr for x32 syscalls (__X32_SYSCALL_BIT).
const x32Bit = 0x40000000

// arch describes one syscall ABI the compiler has a table for.
type arch struct {
	name  specs.Arch
	audit uint32            // seccomp_data.arch
	table map[string]uint32 // syscall name → seccomp_data.nr
	wide  bool              // arguments are 64-bit (else only the low 32 bits count)
	max   uint32            // highest number in table
}

var (
	archX86_64 = newArch(specs.ArchX86_64, unix.AUDIT_ARCH_X86_64, syscallsX86_64, true)
	archX32    = newArch(specs.ArchX32, unix.AUDIT_ARCH_X86_64, syscallsX32, false)
	archX86    = newArch(specs.ArchX86, unix.AUDIT_ARCH_I386, syscallsX86, false)
)

// arches are the supported ABIs, in the order their sections are laid out.
var arches = []*arch{archX86_64, archX32, archX86}

func newArch(name specs.Arch, audit uint32, table map[string]uint32, wide bool) *arch {
	a := &arch{name: name, audit: audit, table: table, wide: wide}
	for _, nr := range table {
		a.max = max(a.max, nr)
	}
	return a
}

func lookupArch(name specs.Arch) (*arch, error) {
	for _, a := range arches {
		if a.name == name {
			return a, nil
		}
	}
	return nil, fmt.Errorf("unsupported seccomp architecture %q", name)
}

// nativeArch is the ABI this binary's own syscalls use.
func nativeArch() (*arch, error) {
	switch runtime.GOARCH {
	case "amd64":
		return archX86_64, nil
	case "386":
		return archX86, nil
	}
	return nil, fmt.Errorf("unsupported native architecture %q: no syscall table", runtime.GOARCH)
}
