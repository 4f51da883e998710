package seccomp

import (
	"fmt"
	"slices"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// maxInstructions is the kernel's limit on a seccomp program (BPF_MAXINSNS).
const maxInstructions = 4096

// Offsets into struct seccomp_data (little-endian on every supported ABI).
const (
	offNr   = 0
	offArch = 4
	offArgs = 16
)

// Filter is a compiled seccomp program and the flags to install it with.
type Filter struct {
	prog  []bpf.RawInstruction
	flags uint
}

// Len is the number of BPF instructions in the program.
func (f *Filter) Len() int { return len(f.prog) }

// Program returns a copy of the compiled program, in execution order.
func (f *Filter) Program() []bpf.RawInstruction { return slices.Clone(f.prog) }

// Flags returns the SECCOMP_FILTER_FLAG_* bits Install passes to seccomp(2).
func (f *Filter) Flags() uint { return f.flags }

// rule is one spec rule resolved for one syscall: what to return when all
// argument comparisons hold.
type rule struct {
	ret  uint32
	args []specs.LinuxSeccompArg
}

// syscallRules are the rules of one syscall number in one ABI.
type syscallRules struct {
	cond   []rule // rules with argument comparisons, in spec order
	uncond *rule  // the first rule without comparisons, tried last
}

// Compile compiles s into a Filter. The warnings name the syscalls that no
// table of the selected architectures knows and that were skipped.
func Compile(s *specs.LinuxSeccomp) (*Filter, []string, error) {
	if s == nil {
		return nil, nil, fmt.Errorf("compile seccomp: no seccomp section: %w", errdefs.ErrInvalidArgument)
	}
	if s.DefaultAction == specs.ActNotify {
		return nil, nil, fmt.Errorf("seccomp defaultAction %s: notify cannot be the default action: %w", s.DefaultAction, errdefs.ErrInvalidArgument)
	}
	def, err := retValue(s.DefaultAction, s.DefaultErrnoRet)
	if err != nil {
		return nil, nil, fmt.Errorf("seccomp defaultAction: %w", err)
	}
	selected, err := selectArches(s.Architectures)
	if err != nil {
		return nil, nil, err
	}

	calls := map[*arch]map[uint32]*syscallRules{}
	for _, a := range selected {
		calls[a] = map[uint32]*syscallRules{}
	}
	var warnings []string
	warned := map[string]bool{}
	notify := false
	for i, sc := range s.Syscalls {
		r, err := resolveRule(sc)
		if err != nil {
			return nil, nil, fmt.Errorf("seccomp syscalls[%d] %v: %w", i, sc.Names, err)
		}
		for _, name := range sc.Names {
			known := false
			for _, a := range selected {
				nr, ok := a.table[name]
				if !ok {
					continue
				}
				known = true
				add(calls[a], nr, r)
			}
			if !known && !warned[name] {
				warned[name] = true
				warnings = append(warnings, fmt.Sprintf("ignoring unknown syscall %q (not in the %s syscall tables)", name, archNames(selected)))
			}
			notify = notify || (known && sc.Action == specs.ActNotify)
		}
	}

	flags, flagWarnings, err := resolveFlags(s.Flags, notify)
	if err != nil {
		return nil, nil, err
	}
	warnings = append(warnings, flagWarnings...)

	prog, err := generate(selected, calls, def)
	if err != nil {
		return nil, nil, err
	}
	if len(prog) > maxInstructions {
		return nil, nil, fmt.Errorf("seccomp program has %d instructions, the kernel allows %d: %w", len(prog), maxInstructions, errdefs.ErrInvalidArgument)
	}
	return &Filter{prog: prog, flags: flags}, warnings, nil
}

// selectArches returns the native ABI and the listed ones, in section order.
func selectArches(names []specs.Arch) ([]*arch, error) {
	native, err := nativeArch()
	if err != nil {
		return nil, err
	}
	want := map[*arch]bool{native: true}
	for _, n := range names {
		a, err := lookupArch(n)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", err, errdefs.ErrInvalidArgument)
		}
		want[a] = true
	}
	var out []*arch
	for _, a := range arches {
		if want[a] {
			out = append(out, a)
		}
	}
	return out, nil
}

func archNames(as []*arch) []specs.Arch {
	var out []specs.Arch
	for _, a := range as {
		out = append(out, a.name)
	}
	return out
}

// resolveRule checks a spec rule and returns it in compiled form.
func resolveRule(sc specs.LinuxSyscall) (rule, error) {
	if len(sc.Names) == 0 {
		return rule{}, fmt.Errorf("rule names no syscall: %w", errdefs.ErrInvalidArgument)
	}
	ret, err := retValue(sc.Action, sc.ErrnoRet)
	if err != nil {
		return rule{}, err
	}
	for _, arg := range sc.Args {
		if arg.Index >= 6 {
			return rule{}, fmt.Errorf("argument index %d out of range (0-5): %w", arg.Index, errdefs.ErrInvalidArgument)
		}
		if !slices.Contains(operators, arg.Op) {
			return rule{}, fmt.Errorf("unknown seccomp operator %q: %w", arg.Op, errdefs.ErrInvalidArgument)
		}
	}
	return rule{ret: ret, args: sc.Args}, nil
}

func add(m map[uint32]*syscallRules, nr uint32, r rule) {
	sr := m[nr]
	if sr == nil {
		sr = &syscallRules{}
		m[nr] = sr
	}
	switch {
	case len(r.args) > 0:
		sr.cond = append(sr.cond, r)
	case sr.uncond == nil:
		sr.uncond = &r
	}
}

// generate lays out the program described in the package documentation.
func generate(selected []*arch, calls map[*arch]map[uint32]*syscallRules, def uint32) ([]bpf.RawInstruction, error) {
	b := newBuilder()
	entry := map[*arch]target{}
	for i := len(selected) - 1; i >= 0; i-- {
		a := selected[i]
		entry[a] = to(b.section(a, calls[a], def))
	}

	// An ABI the profile does not allow kills the process (libseccomp's
	// default kills the thread, which leaves a Go program half alive).
	bad := retTo(unix.SECCOMP_RET_KILL_PROCESS)
	entryOf := func(a *arch) target {
		if t, ok := entry[a]; ok {
			return t
		}
		return bad
	}
	a64, next := bad, bad
	_, has64 := entry[archX86_64]
	_, hasX32 := entry[archX32]
	if has64 || hasX32 {
		split := b.jumpIf(bpf.JumpGreaterOrEqual, x32Bit, entryOf(archX32), entryOf(archX86_64))
		if has64 {
			// nr -1 is a tracer skipping the syscall: not an x32 call.
			split = b.jumpIf(bpf.JumpEqual, 0xffffffff, entry[archX86_64], to(split))
		}
		a64 = to(b.load(offNr))
	}
	if _, ok := entry[archX86]; ok {
		next = to(b.jumpIf(bpf.JumpEqual, unix.AUDIT_ARCH_I386, entry[archX86], bad))
	}
	b.jumpIf(bpf.JumpEqual, unix.AUDIT_ARCH_X86_64, a64, next)
	b.load(offArch)
	return b.program()
}

// section emits the rules of one ABI and returns its entry label.
func (b *builder) section(a *arch, calls map[uint32]*syscallRules, def uint32) label {
	nrs := make([]uint32, 0, len(calls))
	for nr := range calls {
		nrs = append(nrs, nr)
	}
	slices.Sort(nrs)
	bodies := make([]target, len(nrs))
	for i := len(nrs) - 1; i >= 0; i-- {
		bodies[i] = b.body(a, calls[nrs[i]], def)
	}
	next := to(b.emit(bpf.RetConstant{Val: def}))
	b.rets[def] = next.at
	for i := len(nrs) - 1; i >= 0; i-- {
		next = to(b.jumpIf(bpf.JumpEqual, nrs[i], bodies[i], next))
	}
	if denies(def) {
		b.jumpIf(bpf.JumpGreaterThan, a.max, retTo(unix.SECCOMP_RET_ERRNO|uint32(unix.ENOSYS)), next)
	}
	return b.load(offNr)
}

// body emits the rules of one syscall and returns where the syscall's
// dispatch jumps to.
func (b *builder) body(a *arch, r *syscallRules, def uint32) target {
	fail := retTo(def)
	if r.uncond != nil {
		fail = retTo(r.uncond.ret)
	}
	for i := len(r.cond) - 1; i >= 0; i-- {
		c := r.cond[i]
		pass := retTo(c.ret)
		for j := len(c.args) - 1; j >= 0; j-- {
			pass = to(b.compare(a.wide, c.args[j], pass, fail))
		}
		fail = pass
	}
	return fail
}
