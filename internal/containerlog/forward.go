package containerlog

import (
	"bytes"
	"errors"
	"io"
	"os"
)

const (
	// chunkSize is how much a reader reads at a time.
	chunkSize = 64 << 10
	// maxRecord bounds one record (a line of the file). The monitor's
	// records hold at most 8 KiB of output (48 KiB escaped); a longer
	// "line" without a newline is junk, skipped without holding it.
	maxRecord = 16 << 20
)

// lineReader reads the complete lines of a file from an offset on. At the
// end of what is written it reports no line and keeps what it has of an
// unfinished one, so that it can be called again once more is written.
type lineReader struct {
	f        *os.File
	base     int64  // file offset of buf[0]
	buf      []byte // read, not yet returned: buf[start:]
	start    int
	limit    int64 // read nothing at or past limit; -1: no limit
	skipping bool  // inside a line longer than maxRecord, dropped up to its "\n"
}

func newLineReader(f *os.File, off, limit int64) *lineReader {
	return &lineReader{f: f, base: off, limit: limit}
}

// pos is the offset of the first byte not yet returned.
func (r *lineReader) pos() int64 { return r.base + int64(r.start) }

// reset starts again at off, dropping what is buffered.
func (r *lineReader) reset(off int64) {
	r.base, r.buf, r.start, r.skipping = off, r.buf[:0], 0, false
}

// next returns the next complete line with its "\n", valid until the next
// call; ok is false when no complete line is written yet.
func (r *lineReader) next() (line []byte, ok bool, err error) {
	for {
		if i := bytes.IndexByte(r.buf[r.start:], '\n'); i >= 0 {
			line = r.buf[r.start : r.start+i+1]
			r.start += i + 1
			if r.skipping {
				r.skipping = false
				continue
			}
			return line, true, nil
		}
		if len(r.buf)-r.start > maxRecord {
			// Junk: drop it and the rest of its line.
			r.base += int64(len(r.buf))
			r.buf, r.start, r.skipping = r.buf[:0], 0, true
		}
		n, err := r.fill()
		if err != nil || n == 0 {
			return nil, false, err
		}
	}
}

// fill reads what follows the buffer, compacting or growing it first.
func (r *lineReader) fill() (int, error) {
	if r.start > 0 {
		n := copy(r.buf, r.buf[r.start:])
		r.base += int64(r.start)
		r.buf, r.start = r.buf[:n], 0
	}
	if cap(r.buf)-len(r.buf) < chunkSize/2 {
		nb := make([]byte, len(r.buf), max(2*cap(r.buf), chunkSize))
		copy(nb, r.buf)
		r.buf = nb
	}
	end := r.base + int64(len(r.buf))
	room := r.buf[len(r.buf):cap(r.buf)]
	if r.limit >= 0 {
		if end >= r.limit {
			return 0, nil
		}
		if int64(len(room)) > r.limit-end {
			room = room[:r.limit-end]
		}
	}
	n, err := r.f.ReadAt(room, end)
	r.buf = r.buf[:len(r.buf)+n]
	if errors.Is(err, io.EOF) {
		err = nil
	}
	return n, err
}
