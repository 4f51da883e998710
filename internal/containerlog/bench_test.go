package containerlog

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// bigLog writes about size bytes of records of driver at path, in one
// file, lines of 60-odd bytes of output.
func bigLog(b *testing.B, path, driver string, size int64) {
	b.Helper()
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<20)
	l := &testLog{t: b, driver: driver, zone: time.UTC}
	t := epoch
	var n int64
	for i := 0; n < size; i++ {
		rec := l.record("stdout", fmt.Sprintf("%08d the quick brown fox jumps over the lazy dog\n", i), true, t)
		w.Write(rec)
		n += int64(len(rec))
		t = t.Add(time.Microsecond)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkTail100MB: the cost of a tail is that of the lines shown, not
// of the log.
func BenchmarkTail100MB(b *testing.B) {
	for _, driver := range drivers {
		path := filepath.Join(b.TempDir(), "ctr.log")
		bigLog(b, path, driver, 100<<20)
		for _, n := range []int{10, 1000, 100000} {
			b.Run(fmt.Sprintf("%s/tail=%d", driver, n), func(b *testing.B) {
				for b.Loop() {
					if err := Read(context.Background(), path, driver, Options{Tail: n}, io.Discard, io.Discard); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
		b.Run(driver+"/all", func(b *testing.B) {
			b.SetBytes(100 << 20)
			for b.Loop() {
				if err := Read(context.Background(), path, driver, Options{Tail: -1}, io.Discard, io.Discard); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
