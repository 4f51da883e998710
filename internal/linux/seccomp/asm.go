package seccomp

import (
	"fmt"
	"slices"

	"golang.org/x/net/bpf"
)

// maxJump is the farthest a conditional BPF jump reaches (jt and jf are 8-bit).
const maxJump = 255

// label names an instruction by its distance from the end of the program:
// 0 is the last instruction. The builder emits the program back to front, so
// every jump target already has a label when the jump is emitted, and a jump
// from label j to label t skips exactly j-t-1 instructions.
type label int

// target is where a jump goes: an emitted instruction, or "return val", which
// the builder may re-emit near the jump rather than jump far to it.
type target struct {
	at    label
	ret   bool
	value uint32
}

func to(l label) target     { return target{at: l} }
func retTo(v uint32) target { return target{ret: true, value: v} }

// builder assembles a BPF program back to front.
type builder struct {
	rev  []bpf.Instruction // the program, last instruction first
	rets map[uint32]label  // the nearest emitted "ret value" for each value
}

func newBuilder() *builder { return &builder{rets: map[uint32]label{}} }

// next is the label the next emitted instruction gets.
func (b *builder) next() label { return label(len(b.rev)) }

func (b *builder) emit(ins bpf.Instruction) label {
	b.rev = append(b.rev, ins)
	return b.next() - 1
}

// ret emits "return value" (or reuses an emitted one close enough).
func (b *builder) ret(value uint32) label {
	return b.resolve(retTo(value), 0)
}

// resolve returns a label for t that a conditional jump emitted after at most
// slack further instructions can reach, emitting a return or a long jump (JA)
// when t is out of reach.
func (b *builder) resolve(t target, slack int) label {
	reach := func(l label) bool { return int(b.next())+slack-int(l)-1 <= maxJump }
	if t.ret {
		if l, ok := b.rets[t.value]; ok && reach(l) {
			return l
		}
		l := b.emit(bpf.RetConstant{Val: t.value})
		b.rets[t.value] = l
		return l
	}
	if reach(t.at) {
		return t.at
	}
	return b.emit(bpf.Jump{Skip: uint32(b.next() - t.at - 1)})
}

// jumpIf emits "if A cond val goto yes else goto no" and returns its label.
func (b *builder) jumpIf(cond bpf.JumpTest, val uint32, yes, no target) label {
	// Resolving one target may emit one instruction before the jump; leave
	// room for it when resolving the other.
	n := b.resolve(no, 1)
	y := b.resolve(yes, 0)
	at := b.next()
	return b.emit(bpf.JumpIf{
		Cond:      cond,
		Val:       val,
		SkipTrue:  uint8(at - y - 1),
		SkipFalse: uint8(at - n - 1),
	})
}

// load emits "A = 32-bit word at offset off of seccomp_data".
func (b *builder) load(off uint32) label {
	return b.emit(bpf.LoadAbsolute{Off: off, Size: 4})
}

// and emits "A &= val".
func (b *builder) and(val uint32) label {
	return b.emit(bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: val})
}

// program returns the assembled program in execution order.
func (b *builder) program() ([]bpf.RawInstruction, error) {
	ins := slices.Clone(b.rev)
	slices.Reverse(ins)
	raw, err := bpf.Assemble(ins)
	if err != nil {
		return nil, fmt.Errorf("assemble seccomp program: %w", err)
	}
	return raw, nil
}
