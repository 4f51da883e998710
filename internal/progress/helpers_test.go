package progress

import (
	"bytes"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"
)

// clock is a fake clock that moves only when told; safe for the ticker.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// syncBuffer is a bytes.Buffer that the ticker may write while a test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// From returns what was written from offset off on.
func (s *syncBuffer) From(off int) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return string(s.b.Bytes()[off:])
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// screen is a small terminal: it understands exactly the sequences a
// Display may emit, with a terminal's usual output processing (a line
// feed also returns the carriage) and automatic wrap at width, and fails
// the test on anything else or on a cursor that leaves the screen.
type screen struct {
	width    int
	lines    [][]byte
	row, col int
	maxUp    int // the largest cursor-up seen
}

func (s *screen) ensure(row int) {
	for len(s.lines) <= row {
		s.lines = append(s.lines, nil)
	}
}

func (s *screen) put(c byte) {
	if s.col >= s.width { // automatic wrap
		s.row, s.col = s.row+1, 0
	}
	s.ensure(s.row)
	line := s.lines[s.row]
	for len(line) <= s.col {
		line = append(line, ' ')
	}
	line[s.col] = c
	s.lines[s.row] = line
	s.col++
}

func (s *screen) feed(out string) error {
	for i := 0; i < len(out); i++ {
		switch c := out[i]; c {
		case '\r':
			s.col = 0
		case '\n':
			s.row, s.col = s.row+1, 0
			s.ensure(s.row)
		case '\x1b':
			if i+1 >= len(out) || out[i+1] != '[' {
				return fmt.Errorf("offset %d: ESC without [", i)
			}
			j := i + 2
			for j < len(out) && out[j] >= '0' && out[j] <= '9' {
				j++
			}
			if j >= len(out) {
				return fmt.Errorf("offset %d: unterminated sequence", i)
			}
			arg := out[i+2 : j]
			switch out[j] {
			case 'A':
				n, err := strconv.Atoi(arg)
				if err != nil || n < 1 {
					return fmt.Errorf("offset %d: cursor up %q", i, arg)
				}
				if n > s.row {
					return fmt.Errorf("offset %d: cursor up %d from row %d leaves the screen", i, n, s.row)
				}
				s.row -= n
				s.maxUp = max(s.maxUp, n)
			case 'K':
				if arg != "2" {
					return fmt.Errorf("offset %d: erase line %q", i, arg)
				}
				s.ensure(s.row)
				s.lines[s.row] = s.lines[s.row][:0]
			case 'J':
				if arg != "" {
					return fmt.Errorf("offset %d: erase display %q", i, arg)
				}
				s.ensure(s.row)
				if len(s.lines[s.row]) > s.col {
					s.lines[s.row] = s.lines[s.row][:s.col]
				}
				s.lines = s.lines[:s.row+1]
			default:
				return fmt.Errorf("offset %d: unknown sequence %q", i, out[i:j+1])
			}
			i = j
		default:
			if c < ' ' {
				return fmt.Errorf("offset %d: control byte %#x", i, c)
			}
			s.put(c)
		}
	}
	return nil
}

// text returns the screen's lines above the cursor's line, which must be
// empty: every frame ends with a newline.
func (s *screen) text(t *testing.T) []string {
	t.Helper()
	s.ensure(s.row)
	if len(s.lines) != s.row+1 || len(s.lines[s.row]) != 0 || s.col != 0 {
		t.Fatalf("cursor at %d,%d of %d lines, last %q: want it alone on the last line", s.row, s.col, len(s.lines), s.lines[len(s.lines)-1])
	}
	var out []string
	for _, l := range s.lines[:s.row] {
		out = append(out, string(l))
	}
	return out
}

// render plays out on a fresh screen of width columns.
func render(t *testing.T, out string, width int) []string {
	t.Helper()
	s := &screen{width: width}
	if err := s.feed(out); err != nil {
		t.Fatal(err)
	}
	return s.text(t)
}

func ptr[T any](v T) *T { return &v }

const (
	digestA = "sha256:a1b2c3d4e5f60123456789abcdef0123456789abcdef0123456789abcdef"
	digestB = "sha256:0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1"
	digestC = "sha256:9a8b7c6d5e4f30211203f4e5d6c7b8a99a8b7c6d5e4f30211203f4e5d6c7b8"
)
