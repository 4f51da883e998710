package containerlog

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
)

// backScanner returns the complete lines of a file before an offset, last
// first, reading backwards in chunks: a tail of a large log reads only its
// end. What follows the last "\n" before the offset (a torn write, or one
// in progress) is not a line.
type backScanner struct {
	f        *os.File
	base     int64  // file offset of buf[0]
	buf      []byte // the bytes [base, end of what is not yet returned), in mem
	mem      []byte
	trimmed  bool // buf ends at a line's "\n"
	skipping bool // inside a line longer than maxRecord
}

func newBackScanner(f *os.File, end int64) *backScanner {
	return &backScanner{f: f, base: end}
}

// prev returns the line before those already returned and its offset; ok
// is false at the start of the file. The line is valid until the next call.
func (b *backScanner) prev() (line []byte, off int64, ok bool, err error) {
	for {
		if !b.trimmed {
			if i := bytes.LastIndexByte(b.buf, '\n'); i >= 0 {
				b.buf, b.trimmed = b.buf[:i+1], true
			} else {
				b.buf = b.buf[:0] // no end of line yet: not a line
			}
		}
		if b.trimmed && len(b.buf) > 0 {
			i := bytes.LastIndexByte(b.buf[:len(b.buf)-1], '\n')
			if i >= 0 || b.base == 0 {
				line, off = b.buf[i+1:], b.base+int64(i+1)
				b.buf = b.buf[:i+1]
				if b.skipping {
					b.skipping = false
					continue
				}
				return line, off, true, nil
			}
			if len(b.buf) > maxRecord {
				// Junk: drop all but its "\n" and find where it starts.
				b.base += int64(len(b.buf) - 1)
				b.buf, b.skipping = b.buf[len(b.buf)-1:], true
			}
		}
		if b.base == 0 {
			return nil, 0, false, nil
		}
		if err := b.more(); err != nil {
			return nil, 0, false, err
		}
	}
}

// more reads the bytes before buf: a chunk, or as much as buf holds, so
// that a long line costs a logarithmic number of reads. buf lives at the
// end of mem, with room before it for what is read next.
func (b *backScanner) more() error {
	live := len(b.buf)
	n := int(min(max(int64(chunkSize), int64(live)), b.base))
	lo := 0
	if b.buf != nil {
		lo = cap(b.mem) - cap(b.buf) // buf starts at mem[lo]
	}
	if lo < n {
		mem := b.mem
		if size := live + n; size > len(mem) {
			mem = make([]byte, max(size, 2*len(mem)))
		}
		lo = len(mem) - live
		copy(mem[lo:], b.buf)
		b.mem = mem
	}
	m, err := b.f.ReadAt(b.mem[lo-n:lo], b.base-int64(n))
	if err != nil && !(errors.Is(err, io.EOF) && m == n) {
		if errors.Is(err, io.EOF) {
			// The file shrank under us (emptied in place): what was before
			// base is gone.
			b.base, b.buf = 0, b.mem[lo:lo+live]
			return nil
		}
		return fmt.Errorf("read %s: %w", b.f.Name(), err)
	}
	b.base -= int64(n)
	b.buf = b.mem[lo-n : lo+live]
	return nil
}
