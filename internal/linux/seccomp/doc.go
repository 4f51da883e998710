// Package seccomp compiles the OCI runtime-spec seccomp section
// (*specs.LinuxSeccomp) to a classic BPF program and installs it, in pure Go
// (no libseccomp, CGO_ENABLED=0).
//
// Compile turns a spec into a Filter and a list of warnings (syscall names no
// table knows are skipped, as runc does); Install loads the Filter into the
// calling thread with seccomp(2) and returns the user-notification listener fd
// when a rule uses SCMP_ACT_NOTIFY; SendListener hands that fd to the
// seccomp agent named by listenerPath. DefaultProfile is Docker's default
// profile for a capability set.
//
// # The program
//
// The compiled program has one section per audit architecture. In its
// forward order:
//
//	ld  seccomp_data.arch
//	jeq AUDIT_ARCH_X86_64 → x86_64/x32 dispatch
//	jeq AUDIT_ARCH_I386   → i386 section
//	ret KILL_PROCESS                     (an architecture the profile does not allow)
//	x86_64/x32 dispatch: ld nr; nr == -1 → x86_64; nr >= 0x40000000 → x32 else x86_64
//	section: ld nr
//	         nr > highest number in our table → ret ERRNO(ENOSYS)   (deny-by-default only)
//	         jeq nr₁ → rules of syscall 1 … jeq nrₙ → rules of syscall n
//	         ret defaultAction
//	         rules: each rule is its argument comparisons ANDed; a failed rule
//	         falls to the next rule of the same syscall, the last to defaultAction.
//
// Semantics, where the spec leaves room:
//   - The native architecture (x86_64 on amd64) is always in the filter, as
//     with libseccomp; the listed architectures are added to it.
//   - For one syscall, rules with argument comparisons are tried first in the
//     order given, then the first rule without comparisons; the first match
//     decides. Several comparisons in one rule are ANDed (also when they name
//     the same argument; runc splits those into ORed rules).
//   - Arguments are compared as unsigned 64-bit values on x86_64, as two 32-bit
//     halves; on the 32-bit ABIs (i386, x32) only the low 32 bits count, as
//     with libseccomp.
//   - Syscalls numbered above the generated table's highest (newer kernels)
//     return ENOSYS when the default action denies, so a libc falls back, as
//     runc arranges; SCMP_ACT_ERRNO without errnoRet is EPERM.
//   - Conditional jumps in BPF reach 255 instructions; the compiler places a
//     long jump (JA) or a copy of a return where a target is farther.
package seccomp
