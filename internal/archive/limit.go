package archive

import (
	"fmt"
	"io"

	"github.com/berth-project/berth/internal/errdefs"
)

// budget counts the bytes of one layer against a bound shared by the tar
// stream and the file contents written from it.
type budget struct {
	max     int64 // < 0: unbounded
	read    int64
	written int64
}

func (b *budget) check(n int64) error {
	if b.max >= 0 && n > b.max {
		return fmt.Errorf("layer exceeds %d bytes: %w", b.max, errdefs.ErrInvalidArgument)
	}
	return nil
}

// countingReader counts what the tar reader consumes from the layer.
type countingReader struct {
	r io.Reader
	b *budget
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.b.read += int64(n)
	if err == nil {
		err = c.b.check(c.b.read)
	}
	return n, err
}

// contentWriter counts file contents as they are written.
type contentWriter struct {
	w io.Writer
	b *budget
}

func (c *contentWriter) Write(p []byte) (int, error) {
	if err := c.b.check(c.b.written + int64(len(p))); err != nil {
		return 0, err
	}
	n, err := c.w.Write(p)
	c.b.written += int64(n)
	return n, err
}
