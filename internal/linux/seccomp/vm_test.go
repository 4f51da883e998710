package seccomp

import (
	"encoding/binary"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// call is one seccomp_data the tests feed a compiled program.
type call struct {
	arch uint32
	nr   uint32
	args [6]uint64
}

// encode lays c out as struct seccomp_data for x/net/bpf's VM, whose 32-bit
// loads are big-endian: each 32-bit word is stored big-endian so the VM reads
// the value the kernel's little-endian loads would.
func (c call) encode() []byte {
	b := make([]byte, 64)
	binary.BigEndian.PutUint32(b[offNr:], c.nr)
	binary.BigEndian.PutUint32(b[offArch:], c.arch)
	for i, a := range c.args {
		off := argOffset(uint(i))
		binary.BigEndian.PutUint32(b[off:], uint32(a))
		binary.BigEndian.PutUint32(b[off+4:], uint32(a>>32))
	}
	return b
}

// run executes the filter's program on c in x/net/bpf's VM.
func run(t testing.TB, f *Filter, c call) uint32 {
	t.Helper()
	ins, ok := bpf.Disassemble(f.Program())
	if !ok {
		t.Fatalf("program does not disassemble")
	}
	vm, err := bpf.NewVM(ins)
	if err != nil {
		t.Fatalf("program rejected by the BPF VM: %v", err)
	}
	out, err := vm.Run(c.encode())
	if err != nil {
		t.Fatalf("run program on %+v: %v", c, err)
	}
	return uint32(out)
}

func compile(t testing.TB, s *specs.LinuxSeccomp) *Filter {
	t.Helper()
	f, warnings, err := Compile(s)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	for _, w := range warnings {
		t.Logf("warning: %s", w)
	}
	return f
}

func uptr(v uint) *uint { return &v }

const (
	retAllow = unix.SECCOMP_RET_ALLOW
	retEPERM = unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM)
)

func retErrno(e unix.Errno) uint32 { return unix.SECCOMP_RET_ERRNO | uint32(e) }

func x8664(name string, args ...uint64) call {
	c := call{arch: unix.AUDIT_ARCH_X86_64, nr: syscallsX86_64[name]}
	copy(c.args[:], args)
	return c
}

func TestCompareOperators(t *testing.T) {
	values := []uint64{0, 1, 2, 0x7fffffff, 0xfffffffe, 0xffffffff, 0x100000000, 0x100000001,
		0x1ffffffff, 0xffffffff00000000, 0x8000000000000000, 0xfffffffffffffffe, 0xffffffffffffffff}
	holds := map[specs.LinuxSeccompOperator]func(a, v uint64) bool{
		specs.OpEqualTo:      func(a, v uint64) bool { return a == v },
		specs.OpNotEqual:     func(a, v uint64) bool { return a != v },
		specs.OpLessThan:     func(a, v uint64) bool { return a < v },
		specs.OpLessEqual:    func(a, v uint64) bool { return a <= v },
		specs.OpGreaterThan:  func(a, v uint64) bool { return a > v },
		specs.OpGreaterEqual: func(a, v uint64) bool { return a >= v },
	}
	for op, want := range holds {
		for _, v := range values {
			for _, arch := range []specs.Arch{specs.ArchX86_64, specs.ArchX86} {
				f := compile(t, &specs.LinuxSeccomp{
					DefaultAction: specs.ActAllow,
					Architectures: []specs.Arch{arch},
					Syscalls: []specs.LinuxSyscall{{
						Names: []string{"personality"}, Action: specs.ActErrno,
						Args: []specs.LinuxSeccompArg{{Index: 3, Value: v, Op: op}},
					}},
				})
				for _, a := range values {
					c := x8664("personality")
					wide := arch == specs.ArchX86_64
					if !wide {
						c = call{arch: unix.AUDIT_ARCH_I386, nr: syscallsX86["personality"]}
					}
					c.args[3] = a
					exp := want(a, v)
					if !wide {
						exp = want(uint64(uint32(a)), uint64(uint32(v)))
					}
					got := run(t, f, c) == retEPERM
					if got != exp {
						t.Errorf("%s: arg %#x %s %#x: matched=%v, want %v", arch, a, op, v, got, exp)
					}
				}
			}
		}
	}
}

func TestMaskedEqual(t *testing.T) {
	f := compile(t, &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Syscalls: []specs.LinuxSyscall{{
			Names: []string{"clone"}, Action: specs.ActErrno, ErrnoRet: uptr(uint(unix.EXDEV)),
			Args: []specs.LinuxSeccompArg{{Index: 0, Value: 0xff000000_7e020000, ValueTwo: 0x01000000_00020000, Op: specs.OpMaskedEqual}},
		}},
	})
	for _, tc := range []struct {
		arg  uint64
		deny bool
	}{
		{0x01000000_00020000, true},
		{0x01ffffff_80020011, true}, // bits outside the mask do not count
		{0x00000000_00020000, false},
		{0x01000000_00000000, false},
		{0x01000000_00120000, true}, // 0x00100000 is outside the mask
		{0x01000000_02020000, false},
		{0x03000000_00020000, false},
	} {
		got := run(t, f, x8664("clone", tc.arg))
		if (got == retErrno(unix.EXDEV)) != tc.deny || (!tc.deny && got != retAllow) {
			t.Errorf("clone(%#x) → %#x, want deny=%v", tc.arg, got, tc.deny)
		}
	}
}

func TestRulesAndArgs(t *testing.T) {
	// Comparisons in one rule are ANDed; rules for one syscall are ORed and
	// tried in order; the rule without comparisons comes last.
	f := compile(t, &specs.LinuxSeccomp{
		DefaultAction:   specs.ActErrno,
		DefaultErrnoRet: uptr(uint(unix.EACCES)),
		Syscalls: []specs.LinuxSyscall{
			{Names: []string{"lseek"}, Action: specs.ActAllow},
			{Names: []string{"lseek"}, Action: specs.ActErrno, ErrnoRet: uptr(uint(unix.EROFS)), Args: []specs.LinuxSeccompArg{
				{Index: 1, Value: 0x100000000, Op: specs.OpGreaterThan},
				{Index: 2, Value: 0, Op: specs.OpEqualTo},
			}},
			{Names: []string{"lseek"}, Action: specs.ActErrno, ErrnoRet: uptr(uint(unix.EXDEV)), Args: []specs.LinuxSeccompArg{
				{Index: 0, Value: 7, Op: specs.OpEqualTo},
			}},
			{Names: []string{"read", "write"}, Action: specs.ActLog},
		},
	})
	for _, tc := range []struct {
		c    call
		want uint32
	}{
		{x8664("lseek", 3, 0x200000000, 0), retErrno(unix.EROFS)},
		{x8664("lseek", 3, 0x200000000, 1), retAllow},
		{x8664("lseek", 3, 0x100000000, 0), retAllow},
		{x8664("lseek", 7, 0x100000000, 0), retErrno(unix.EXDEV)},
		{x8664("lseek", 7, 0x200000000, 0), retErrno(unix.EROFS)},
		{x8664("read"), unix.SECCOMP_RET_LOG},
		{x8664("write"), unix.SECCOMP_RET_LOG},
		{x8664("getpid"), retErrno(unix.EACCES)},
		{call{arch: unix.AUDIT_ARCH_X86_64, nr: archX86_64.max + 1}, retErrno(unix.ENOSYS)},
		{call{arch: unix.AUDIT_ARCH_X86_64, nr: 0xffffffff}, retErrno(unix.ENOSYS)},
		{call{arch: unix.AUDIT_ARCH_X86_64, nr: syscallsX32["read"]}, unix.SECCOMP_RET_KILL_PROCESS},
		{call{arch: unix.AUDIT_ARCH_I386, nr: syscallsX86["read"]}, unix.SECCOMP_RET_KILL_PROCESS},
		{call{arch: unix.AUDIT_ARCH_AARCH64, nr: 0}, unix.SECCOMP_RET_KILL_PROCESS},
	} {
		if got := run(t, f, tc.c); got != tc.want {
			t.Errorf("%+v → %#x, want %#x", tc.c, got, tc.want)
		}
	}
}

func TestArchitectures(t *testing.T) {
	f := compile(t, &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Architectures: []specs.Arch{specs.ArchX86, specs.ArchX32},
		Syscalls: []specs.LinuxSyscall{
			{Names: []string{"rt_sigaction", "chown32"}, Action: specs.ActTrap},
			{Names: []string{"getcwd"}, Action: specs.ActNotify},
		},
	})
	if f.Flags()&unix.SECCOMP_FILTER_FLAG_NEW_LISTENER == 0 {
		t.Errorf("flags %#x: NOTIFY rule without NEW_LISTENER", f.Flags())
	}
	for _, tc := range []struct {
		c    call
		want uint32
	}{
		{x8664("rt_sigaction"), unix.SECCOMP_RET_TRAP},
		{call{arch: unix.AUDIT_ARCH_X86_64, nr: syscallsX32["rt_sigaction"]}, unix.SECCOMP_RET_TRAP},
		{call{arch: unix.AUDIT_ARCH_X86_64, nr: x32Bit | syscallsX86_64["rt_sigaction"]}, retAllow}, // the x32 number of the 64-bit-only entry is not rt_sigaction
		{call{arch: unix.AUDIT_ARCH_I386, nr: syscallsX86["rt_sigaction"]}, unix.SECCOMP_RET_TRAP},
		{call{arch: unix.AUDIT_ARCH_I386, nr: syscallsX86["chown32"]}, unix.SECCOMP_RET_TRAP},
		{call{arch: unix.AUDIT_ARCH_I386, nr: syscallsX86_64["rt_sigaction"]}, retAllow},
		{x8664("getcwd"), unix.SECCOMP_RET_USER_NOTIF},
		{call{arch: unix.AUDIT_ARCH_X86_64, nr: syscallsX32["getcwd"]}, unix.SECCOMP_RET_USER_NOTIF},
		{call{arch: unix.AUDIT_ARCH_I386, nr: syscallsX86["getcwd"]}, unix.SECCOMP_RET_USER_NOTIF},
		{call{arch: unix.AUDIT_ARCH_ARM, nr: 0}, unix.SECCOMP_RET_KILL_PROCESS},
	} {
		if got := run(t, f, tc.c); got != tc.want {
			t.Errorf("%+v → %#x, want %#x", tc.c, got, tc.want)
		}
	}
}

// TestLongJumps gives every x86_64 syscall its own conditional rule, so the
// dispatch and the rules lie far more than 255 instructions apart.
func TestLongJumps(t *testing.T) {
	s := &specs.LinuxSeccomp{DefaultAction: specs.ActKillProcess}
	for name, nr := range syscallsX86_64 {
		s.Syscalls = append(s.Syscalls, specs.LinuxSyscall{
			Names: []string{name}, Action: specs.ActErrno, ErrnoRet: uptr(uint(nr%4000 + 1)),
			Args: []specs.LinuxSeccompArg{{Index: 0, Value: uint64(nr) << 32, Op: specs.OpEqualTo}},
		})
	}
	f := compile(t, s)
	t.Logf("%d syscalls, %d instructions", len(s.Syscalls), f.Len())
	if f.Len() < 4*256 {
		t.Fatalf("program of %d instructions is too short to need long jumps", f.Len())
	}
	for name, nr := range syscallsX86_64 {
		if got, want := run(t, f, x8664(name, uint64(nr)<<32)), unix.SECCOMP_RET_ERRNO|(nr%4000+1); got != want {
			t.Errorf("%s(match) → %#x, want %#x", name, got, want)
		}
		if got := run(t, f, x8664(name, uint64(nr)<<32|1)); got != unix.SECCOMP_RET_KILL_PROCESS {
			t.Errorf("%s(no match) → %#x, want KILL_PROCESS", name, got)
		}
	}
}

func TestDefaultProfile(t *testing.T) {
	caps := []string{"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
		"CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
		"CAP_KILL", "CAP_AUDIT_WRITE"}
	for _, tc := range []struct {
		caps    []string
		mountOK bool
	}{{caps, false}, {append(caps, "CAP_SYS_ADMIN"), true}} {
		p := DefaultProfile(tc.caps)
		f, warnings, err := Compile(p)
		if err != nil {
			t.Fatalf("Compile(default profile): %v", err)
		}
		t.Logf("default profile: %d rules, %d instructions, %d warnings, arches %v", len(p.Syscalls), f.Len(), len(warnings), p.Architectures)
		for _, w := range warnings {
			t.Logf("  %s", w)
		}
		if got := run(t, f, x8664("read")); got != retAllow {
			t.Errorf("read → %#x, want allow", got)
		}
		if got := run(t, f, x8664("mount")); (got == retAllow) != tc.mountOK {
			t.Errorf("caps %d: mount → %#x, want allowed=%v", len(tc.caps), got, tc.mountOK)
		}
		if got := run(t, f, x8664("socket", unix.AF_INET)); got != retAllow {
			t.Errorf("socket(AF_INET) → %#x, want allow", got)
		}
		if got := run(t, f, x8664("socket", unix.AF_VSOCK)); got != retEPERM {
			t.Errorf("socket(AF_VSOCK) → %#x, want EPERM", got)
		}
		if got := run(t, f, call{arch: unix.AUDIT_ARCH_I386, nr: syscallsX86["chown32"]}); got != retAllow {
			t.Errorf("i386 chown32 → %#x, want allow", got)
		}
	}
}

func TestCompileErrors(t *testing.T) {
	for name, s := range map[string]*specs.LinuxSeccomp{
		"nil":               nil,
		"no default action": {},
		"unknown default":   {DefaultAction: "SCMP_ACT_BOGUS"},
		"notify default":    {DefaultAction: specs.ActNotify},
		"errno on allow":    {DefaultAction: specs.ActAllow, DefaultErrnoRet: uptr(1)},
		"errno too large":   {DefaultAction: specs.ActErrno, DefaultErrnoRet: uptr(70000)},
		"unknown arch":      {DefaultAction: specs.ActAllow, Architectures: []specs.Arch{specs.ArchAARCH64}},
		"unknown flag":      {DefaultAction: specs.ActAllow, Flags: []specs.LinuxSeccompFlag{"SECCOMP_FILTER_FLAG_BOGUS"}},
		"unknown action": {DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{
			{Names: []string{"read"}, Action: "SCMP_ACT_BOGUS"}}},
		"no names": {DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{{Action: specs.ActErrno}}},
		"unknown op": {DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{
			{Names: []string{"read"}, Action: specs.ActErrno, Args: []specs.LinuxSeccompArg{{Op: "SCMP_CMP_BOGUS"}}}}},
		"arg index": {DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{
			{Names: []string{"read"}, Action: specs.ActErrno, Args: []specs.LinuxSeccompArg{{Index: 6, Op: specs.OpEqualTo}}}}},
	} {
		if _, _, err := Compile(s); err == nil {
			t.Errorf("%s: Compile succeeded, want an error", name)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
	_, _, err := Compile(&specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Architectures: []specs.Arch{specs.ArchPPC64LE}})
	if err == nil || err.Error() != `unsupported seccomp architecture "SCMP_ARCH_PPC64LE": invalid argument` {
		t.Errorf("unknown arch: error %v", err)
	}
}

func TestUnknownSyscallWarns(t *testing.T) {
	f, warnings, err := Compile(&specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{
		{Names: []string{"no_such_syscall", "getcwd", "no_such_syscall"}, Action: specs.ActErrno},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 1 || !contains(warnings[0], `"no_such_syscall"`) {
		t.Errorf("warnings %q, want one naming no_such_syscall", warnings)
	}
	if got := run(t, f, x8664("getcwd")); got != retEPERM {
		t.Errorf("getcwd → %#x, want EPERM", got)
	}
}

func TestFeatures(t *testing.T) {
	if len(Actions()) != 9 || len(Operators()) != 7 || len(Archs()) != 3 || len(KnownFlags()) != 4 {
		t.Errorf("features: actions %v operators %v archs %v flags %v", Actions(), Operators(), Archs(), KnownFlags())
	}
	if !Supported() {
		t.Fatalf("kernel reports no seccomp filter support")
	}
	// Kernel 6.18 knows every flag (WAIT_KILLABLE_RECV since 5.19).
	if got := SupportedFlags(); len(got) != 4 {
		t.Errorf("SupportedFlags() = %v, want all of %v", got, KnownFlags())
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}
