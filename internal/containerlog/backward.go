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
	buf      []byte // the bytes [base, end of what is not yet returned)
	trimmed  bool   // buf ends at a line's "\n"
	skipping bool   // inside a line longer than maxRecord
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
// that a long line costs a logarithmic number of reads.
func (b *backScanner) more() error {
	n := min(max(int64(chunkSize), int64(len(b.buf))), b.base)
	nb := make([]byte, int(n)+len(b.buf))
	copy(nb[n:], b.buf)
	m, err := b.f.ReadAt(nb[:n], b.base-n)
	if err != nil && !(errors.Is(err, io.EOF) && int64(m) == n) {
		if errors.Is(err, io.EOF) {
			// The file shrank under us (truncated in place): what is left
			// before base is gone.
			b.base, b.buf = 0, nb[n:]
			return nil
		}
		return fmt.Errorf("read %s: %w", b.f.Name(), err)
	}
	b.base -= n
	b.buf = nb
	return nil
}
