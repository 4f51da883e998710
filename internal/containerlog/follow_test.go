package containerlog

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// syncBuffer is a Writer that a test can watch while Read writes to it.
type syncBuffer struct {
	mu  sync.Mutex
	b   bytes.Buffer
	cnd chan struct{} // closed and replaced at each write
}

func newSyncBuffer() *syncBuffer { return &syncBuffer{cnd: make(chan struct{})} }

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	close(s.cnd)
	s.cnd = make(chan struct{})
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitFor waits until the buffer holds want (a test that hangs here fails
// by the test timeout, naming it).
func (s *syncBuffer) waitFor(t *testing.T, want string) {
	t.Helper()
	for {
		s.mu.Lock()
		got, ch := s.b.String(), s.cnd
		s.mu.Unlock()
		if strings.Contains(got, want) {
			return
		}
		select {
		case <-ch:
		case <-time.After(time.Minute):
			t.Fatalf("waiting for %q; have %q", want, clip(got))
		}
	}
}

// follow runs Read with Follow in a goroutine; the returned function waits
// for it and returns its error.
func follow(ctx context.Context, path, driver string, opts Options, o, e *syncBuffer) func() error {
	opts.Follow = true
	errc := make(chan error, 1)
	go func() { errc <- Read(ctx, path, driver, opts, o, e) }()
	return func() error { return <-errc }
}

// Every line is read exactly once, in order, while a writer rotates the
// log as fast as it writes (a few records per file).
func TestFollowRotation(t *testing.T) {
	for _, driver := range drivers {
		for _, pace := range []string{"bursts", "flat out"} {
			t.Run(driver+"/"+pace, func(t *testing.T) {
				l := newTestLog(t, filepath.Join(t.TempDir(), "ctr.log"), driver, 512, 100000)
				var done atomic.Bool
				o, e := newSyncBuffer(), newSyncBuffer()
				wait := follow(context.Background(), l.path, driver, Options{Tail: -1, Done: done.Load}, o, e)
				go func() {
					for i := range 2000 {
						stream := "stdout"
						if i%7 == 0 {
							stream = "stderr"
						}
						chunk := fmt.Sprintf("%s line %d\n", stream, i)
						if i%5 == 0 {
							chunk = fmt.Sprintf("%s part %d (", stream, i)
						}
						l.write(stream, chunk)
						if pace == "bursts" && i%20 == 0 {
							time.Sleep(time.Millisecond)
						}
					}
					l.write("stdout", ")\nthe end\n")
					l.write("stderr", ")\n")
					done.Store(true)
				}()
				if err := wait(); err != nil {
					t.Fatal(err)
				}
				if l.rotated < 100 {
					t.Errorf("only %d rotations", l.rotated)
				}
				wo, we := l.want(Options{Tail: -1})
				if got := o.String(); got != wo {
					t.Errorf("stdout\n got %q\nwant %q", clip(got), clip(wo))
				}
				if got := e.String(); got != we {
					t.Errorf("stderr\n got %q\nwant %q", clip(got), clip(we))
				}
			})
		}
	}
}

// Follow with a tail: the last lines, then what comes; a line under way
// when Read begins is finished; Done ends it once all is read.
func TestFollowTailThenNew(t *testing.T) {
	for _, driver := range drivers {
		t.Run(driver, func(t *testing.T) {
			l := newTestLog(t, filepath.Join(t.TempDir(), "ctr.log"), driver, 300, 1000)
			for i := range 50 {
				l.write("stdout", fmt.Sprintf("old %d\n", i))
			}
			l.write("stderr", "under way: ")
			var done atomic.Bool
			o, e := newSyncBuffer(), newSyncBuffer()
			wait := follow(context.Background(), l.path, driver, Options{Tail: 3, Done: done.Load, Timestamps: true}, o, e)
			e.waitFor(t, "under way: ")
			l.write("stderr", "done\n")
			for i := range 50 {
				l.write("stdout", fmt.Sprintf("new %d\n", i))
			}
			done.Store(true)
			if err := wait(); err != nil {
				t.Fatal(err)
			}
			wo, we := l.want(Options{Tail: 3 + 50, Timestamps: true})
			if got := o.String(); got != wo {
				t.Errorf("stdout\n got %q\nwant %q", clip(got), clip(wo))
			}
			if got := e.String(); got != we {
				t.Errorf("stderr\n got %q\nwant %q", got, we)
			}
		})
	}
}

// Tail 0: only what is written after Read begins; a line under way is not
// shown (it began before), the next ones are.
func TestFollowTailZero(t *testing.T) {
	for _, driver := range drivers {
		t.Run(driver, func(t *testing.T) {
			l := newTestLog(t, filepath.Join(t.TempDir(), "ctr.log"), driver, 0, 0)
			l.write("stdout", "old\n")
			l.write("stderr", "old and ")
			var done atomic.Bool
			o, e := newSyncBuffer(), newSyncBuffer()
			wait := follow(context.Background(), l.path, driver, Options{Tail: 0, Done: done.Load}, o, e)
			// Markers until Read shows one: then it is past its start.
			for !strings.Contains(o.String(), "marker\n") {
				l.write("stdout", "marker\n")
				time.Sleep(10 * time.Millisecond)
			}
			l.write("stderr", "still old\n")
			l.write("stderr", "new\n")
			l.write("stdout", "new\n")
			done.Store(true)
			if err := wait(); err != nil {
				t.Fatal(err)
			}
			if got := strings.ReplaceAll(o.String(), "marker\n", ""); got != "new\n" || !strings.HasPrefix(o.String(), "marker\n") {
				t.Errorf("stdout %q", o.String())
			}
			if got := e.String(); got != "new\n" {
				t.Errorf("stderr %q", got)
			}
		})
	}
}

func TestFollowCancel(t *testing.T) {
	l := newTestLog(t, filepath.Join(t.TempDir(), "ctr.log"), DriverK8sFile, 0, 0)
	l.write("stdout", "hello\n")
	ctx, cancel := context.WithCancel(context.Background())
	o, e := newSyncBuffer(), newSyncBuffer()
	wait := follow(ctx, l.path, DriverK8sFile, Options{Tail: -1}, o, e)
	o.waitFor(t, "hello\n")
	cancel()
	if err := wait(); !errors.Is(err, context.Canceled) {
		t.Errorf("Read after cancel: %v", err)
	}
	if got := o.String(); got != "hello\n" {
		t.Errorf("stdout %q", got)
	}
}

// Follow of a log not created yet waits for it.
func TestFollowMissingThenCreated(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ctr.log")
	var done atomic.Bool
	o, e := newSyncBuffer(), newSyncBuffer()
	wait := follow(context.Background(), path, DriverJSONFile, Options{Tail: -1, Done: done.Load}, o, e)
	time.Sleep(3 * PollInterval) // most likely, Read is waiting for the file by now
	l := newTestLog(t, path, DriverJSONFile, 100, 1000)
	for i := range 20 {
		l.write("stdout", fmt.Sprintf("line %d\n", i))
	}
	done.Store(true)
	if err := wait(); err != nil {
		t.Fatal(err)
	}
	wo, _ := l.want(Options{Tail: -1})
	if got := o.String(); got != wo {
		t.Errorf("stdout\n got %q\nwant %q", got, wo)
	}
}

// Until ends a follow once it has passed.
func TestFollowUntil(t *testing.T) {
	l := newTestLog(t, filepath.Join(t.TempDir(), "ctr.log"), DriverK8sFile, 0, 0)
	l.write("stdout", "a\nb\nc\n")
	o, e := newSyncBuffer(), newSyncBuffer()
	wait := follow(context.Background(), l.path, DriverK8sFile, Options{Tail: -1, Until: epoch.Add(time.Millisecond)}, o, e)
	if err := wait(); err != nil {
		t.Fatal(err)
	}
	if got := o.String(); got != "a\nb\n" {
		t.Errorf("stdout %q", got)
	}
}

// With max-file 1 the monitor empties the file in place; a follower that
// has read it starts again at its top.
func TestFollowTruncatedInPlace(t *testing.T) {
	for _, driver := range drivers {
		t.Run(driver, func(t *testing.T) {
			l := newTestLog(t, filepath.Join(t.TempDir(), "ctr.log"), driver, 1000, 1)
			var done atomic.Bool
			o, e := newSyncBuffer(), newSyncBuffer()
			wait := follow(context.Background(), l.path, driver, Options{Tail: -1, Done: done.Load}, o, e)
			var want strings.Builder
			i := 0
			for l.size+200 < l.maxSize {
				line := fmt.Sprintf("line %d\n", i)
				l.write("stdout", line)
				want.WriteString(line)
				i++
			}
			o.waitFor(t, want.String())
			l.write("stdout", strings.Repeat("x", 250)+"\n") // does not fit: the file is emptied first
			want.WriteString(strings.Repeat("x", 250) + "\n")
			if l.size > 400 {
				t.Fatalf("not truncated: %d bytes", l.size)
			}
			done.Store(true)
			if err := wait(); err != nil {
				t.Fatal(err)
			}
			if got := o.String(); got != want.String() {
				t.Errorf("stdout\n got %q\nwant %q", got, want.String())
			}
		})
	}
}
