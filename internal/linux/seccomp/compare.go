package seccomp

import (
	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/net/bpf"
)

// operators are the argument comparisons the compiler supports: all of the
// runtime-spec's.
var operators = []specs.LinuxSeccompOperator{
	specs.OpNotEqual,
	specs.OpLessThan,
	specs.OpLessEqual,
	specs.OpEqualTo,
	specs.OpGreaterEqual,
	specs.OpGreaterThan,
	specs.OpMaskedEqual,
}

// argOffset is the offset of the low 32-bit half of syscall argument i in
// seccomp_data; the high half follows it.
func argOffset(i uint) uint32 { return offArgs + 8*uint32(i) }

// compare emits the comparison arg and returns its entry label: it goes to
// pass when the syscall argument satisfies it and to fail otherwise. Values are
// unsigned. With wide, the 64-bit argument is compared as its high half, then
// its low half; otherwise only the low 32 bits of argument and value count.
//
// SCMP_CMP_MASKED_EQ holds when (argument & Value) == ValueTwo.
func (b *builder) compare(wide bool, arg specs.LinuxSeccompArg, pass, fail target) label {
	lo := argOffset(arg.Index)
	hi := lo + 4
	if arg.Op == specs.OpMaskedEqual {
		mask, want := arg.Value, arg.ValueTwo
		b.jumpIf(bpf.JumpEqual, uint32(want), pass, fail)
		b.and(uint32(mask))
		low := b.load(lo)
		if !wide {
			return low
		}
		b.jumpIf(bpf.JumpEqual, uint32(want>>32), to(low), fail)
		b.and(uint32(mask >> 32))
		return b.load(hi)
	}

	// The low half decides when the high halves are equal.
	var (
		cond     bpf.JumpTest
		yes, no  target
		above    target // the outcome when the high half is greater than the value's
		below    target // … and when it is less
		v        = arg.Value
		vlo, vhi = uint32(v), uint32(v >> 32)
	)
	switch arg.Op {
	case specs.OpEqualTo:
		cond, yes, no, above, below = bpf.JumpEqual, pass, fail, fail, fail
	case specs.OpNotEqual:
		cond, yes, no, above, below = bpf.JumpEqual, fail, pass, pass, pass
	case specs.OpGreaterThan:
		cond, yes, no, above, below = bpf.JumpGreaterThan, pass, fail, pass, fail
	case specs.OpGreaterEqual:
		cond, yes, no, above, below = bpf.JumpGreaterOrEqual, pass, fail, pass, fail
	case specs.OpLessThan:
		cond, yes, no, above, below = bpf.JumpGreaterOrEqual, fail, pass, fail, pass
	default: // specs.OpLessEqual; Compile rejects unknown operators
		cond, yes, no, above, below = bpf.JumpGreaterThan, fail, pass, fail, pass
	}
	b.jumpIf(cond, vlo, yes, no)
	low := b.load(lo)
	if !wide {
		return low
	}
	if above == below {
		b.jumpIf(bpf.JumpEqual, vhi, to(low), above)
	} else {
		eq := b.jumpIf(bpf.JumpEqual, vhi, to(low), below)
		b.jumpIf(bpf.JumpGreaterThan, vhi, above, to(eq))
	}
	return b.load(hi)
}
