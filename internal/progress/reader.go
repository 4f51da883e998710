package progress

import "io"

// Reader returns a reader of r that reports each read to the layer id as
// status, with the bytes read so far (plus start, for a resumed transfer)
// of total. Wrap a blob's body with it to show a download or an upload.
func (d *Display) Reader(r io.Reader, id string, status Status, start, total int64) io.Reader {
	return &countingReader{r: r, d: d, id: id, status: status, n: start, total: total}
}

type countingReader struct {
	r      io.Reader
	d      *Display
	id     string
	status Status
	n      int64
	total  int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if n > 0 {
		c.n += int64(n)
		c.d.Update(c.id, c.status, c.n, c.total)
	}
	return n, err
}
