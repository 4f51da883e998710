package seccomp

import (
	"encoding/binary"
	"encoding/json"
	"fmt"

	"golang.org/x/net/bpf"
)

// wireFilter is a Filter as it travels from the runtime, which compiles it,
// to the container's init, which installs it: 8 bytes an instruction.
type wireFilter struct {
	Prog  []byte `json:"prog"`
	Flags uint   `json:"flags"`
}

// MarshalJSON encodes the compiled program.
func (f *Filter) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 8*len(f.prog))
	for _, in := range f.prog {
		b = binary.LittleEndian.AppendUint16(b, in.Op)
		b = append(b, in.Jt, in.Jf)
		b = binary.LittleEndian.AppendUint32(b, in.K)
	}
	return json.Marshal(wireFilter{Prog: b, Flags: f.flags})
}

// UnmarshalJSON decodes a program encoded by MarshalJSON.
func (f *Filter) UnmarshalJSON(data []byte) error {
	var w wireFilter
	if err := json.Unmarshal(data, &w); err != nil {
		return fmt.Errorf("decode seccomp filter: %w", err)
	}
	if len(w.Prog)%8 != 0 {
		return fmt.Errorf("decode seccomp filter: %d bytes is not a whole number of instructions", len(w.Prog))
	}
	prog := make([]bpf.RawInstruction, 0, len(w.Prog)/8)
	for b := w.Prog; len(b) > 0; b = b[8:] {
		prog = append(prog, bpf.RawInstruction{
			Op: binary.LittleEndian.Uint16(b), Jt: b[2], Jf: b[3], K: binary.LittleEndian.Uint32(b[4:]),
		})
	}
	f.prog, f.flags = prog, w.Flags
	return nil
}
