package seccomp

import (
	"encoding/binary"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// fuzzSource hands out the fuzzer's bytes; zeros once they run out.
type fuzzSource []byte

func (s *fuzzSource) byte() byte {
	if len(*s) == 0 {
		return 0
	}
	b := (*s)[0]
	*s = (*s)[1:]
	return b
}

func (s *fuzzSource) uint64() uint64 {
	var b [8]byte
	for i := range b {
		b[i] = s.byte()
	}
	return binary.LittleEndian.Uint64(b[:])
}

func pick[T any](s *fuzzSource, from []T) T { return from[int(s.byte())%len(from)] }

// fuzzSpec builds a seccomp section, valid or not, from the fuzzer's bytes.
func fuzzSpec(s *fuzzSource) *specs.LinuxSeccomp {
	actions := []specs.LinuxSeccompAction{specs.ActKill, specs.ActKillProcess, specs.ActKillThread, specs.ActTrap,
		specs.ActErrno, specs.ActTrace, specs.ActAllow, specs.ActLog, specs.ActNotify, "SCMP_ACT_BOGUS", ""}
	archs := []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32, specs.ArchAARCH64, ""}
	ops := append([]specs.LinuxSeccompOperator{"SCMP_CMP_BOGUS"}, operators...)
	names := []string{"read", "write", "personality", "clone", "socket", "chown32", "rt_sigaction", "mseal", "no_such_syscall", ""}
	flags := []specs.LinuxSeccompFlag{flagTSync, specs.LinuxSeccompFlagLog, specs.LinuxSeccompFlagSpecAllow,
		specs.LinuxSeccompFlagWaitKillableRecv, "SECCOMP_FILTER_FLAG_BOGUS"}
	errno := func() *uint {
		if s.byte()%3 != 0 {
			return nil
		}
		v := uint(s.byte()) | uint(s.byte())<<8 | uint(s.byte()%2)<<16
		return &v
	}

	out := &specs.LinuxSeccomp{DefaultAction: pick(s, actions), DefaultErrnoRet: errno()}
	for range s.byte() % 4 {
		out.Architectures = append(out.Architectures, pick(s, archs))
	}
	for range s.byte() % 3 {
		out.Flags = append(out.Flags, pick(s, flags))
	}
	for range s.byte() % 64 {
		sc := specs.LinuxSyscall{Action: pick(s, actions), ErrnoRet: errno()}
		for range s.byte() % 4 {
			sc.Names = append(sc.Names, pick(s, names))
		}
		for range s.byte() % 4 {
			sc.Args = append(sc.Args, specs.LinuxSeccompArg{
				Index: uint(s.byte() % 7), Op: pick(s, ops), Value: s.uint64(), ValueTwo: s.uint64(),
			})
		}
		out.Syscalls = append(out.Syscalls, sc)
	}
	return out
}

// FuzzCompile compiles random sections: Compile must never panic, and every
// program it returns must be valid BPF that ends in a return on any input.
func FuzzCompile(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{6, 0, 1, 2, 0, 1, 20, 4, 3, 2, 1, 3, 0, 4, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0})
	f.Add([]byte{4, 0, 3, 0, 1, 2, 2, 1, 63, 8, 0, 2, 3, 7, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})
	f.Fuzz(func(t *testing.T, data []byte) {
		src := fuzzSource(data)
		s := fuzzSpec(&src)
		filter, _, err := Compile(s)
		if err != nil {
			return
		}
		if filter.Len() == 0 || filter.Len() > maxInstructions {
			t.Fatalf("program of %d instructions", filter.Len())
		}
		ins, ok := bpf.Disassemble(filter.Program())
		if !ok {
			t.Fatalf("program does not disassemble")
		}
		vm, err := bpf.NewVM(ins)
		if err != nil {
			t.Fatalf("invalid program: %v", err)
		}
		for _, a := range []uint32{unix.AUDIT_ARCH_X86_64, unix.AUDIT_ARCH_I386, unix.AUDIT_ARCH_AARCH64} {
			c := call{arch: a, nr: uint32(src.byte()) | uint32(src.byte()%2)<<30}
			for i := range c.args {
				c.args[i] = src.uint64()
			}
			if _, err := vm.Run(c.encode()); err != nil {
				t.Fatalf("run %+v: %v", c, err)
			}
		}
	})
}
