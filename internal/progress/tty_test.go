package progress

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestTTYPullFinalFrame(t *testing.T) {
	var b syncBuffer
	c := newClock()
	pull(New(&b, Options{TTY: ptr(true), Width: 120, Now: c.Now}), c)
	s := &screen{width: 120}
	if err := s.feed(b.String()); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"latest: Pulling from library/busybox",
		"a1b2c3d4e5f6: Already exists",
		"0f1e2d3c4b5a: Pull complete",
		"9a8b7c6d5e4f: Pull complete",
		"Digest: sha256:" + strings.Repeat("ab", 32),
		"Status: Downloaded newer image for busybox:latest",
	}
	if got := s.text(t); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("final screen:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if s.maxUp != 3 {
		t.Errorf("largest cursor-up = %d, want 3 (the layer block redrawn in place)", s.maxUp)
	}
}

// downloading feeds layer B at 8.1 MB/s for 3 s, in 100 ms steps, while A
// waits and C downloads with no known total, with a warning printed in
// the middle.
func downloading(d *Display, c *clock) {
	d.Printf("latest: Pulling from library/busybox")
	d.Update(digestA, Waiting, 0, 0)
	for i := range int64(31) {
		if i == 10 {
			d.Printf("warning: mirror unavailable, using the registry")
		}
		d.Update(digestB, Downloading, i*810_000, 45.6e6)
		d.Update(digestC, Downloading, 500, 0)
		c.Advance(100 * time.Millisecond)
	}
	c.Advance(-100 * time.Millisecond)
	d.Update(digestB, Downloading, 30*810_000, 45.6e6) // draw at the last step's time
}

func TestTTYFrameWithBars(t *testing.T) {
	for _, tc := range []struct {
		width int
		b     string // the line of layer B
	}{
		{120, "0f1e2d3c4b5a: Downloading [==========================>                        ]   24.3MB/45.6MB  8.1MB/s"},
		{80, "0f1e2d3c4b5a: Downloading   24.3MB/45.6MB  8.1MB/s"}, // no room for the bar
		{48, "0f1e2d3c4b5a: Downloading   24.3MB/45.6MB"},          // nor for the speed
		{30, "0f1e2d3c4b5a: Downloading   2"},                      // cut
		{1, ""},                                                    // degenerate, still one line each
	} {
		t.Run(fmt.Sprint(tc.width), func(t *testing.T) {
			var b syncBuffer
			c := newClock()
			d := New(&b, Options{TTY: ptr(true), Width: tc.width, Interval: 100 * time.Millisecond, Now: c.Now})
			downloading(d, c)
			s := &screen{width: max(tc.width, 2)}
			if err := s.feed(b.String()); err != nil {
				t.Fatal(err)
			}
			got := s.text(t)
			want := []string{
				"latest: Pulling from library/busybox",
				"warning: mirror unavailable, using the registry",
				fit("a1b2c3d4e5f6: Waiting", tc.width),
				tc.b,
				fit("9a8b7c6d5e4f: Downloading     500B", tc.width),
			}
			if tc.width < 40 {
				want = want[2:] // the headers wrapped on a narrow screen: compare the block only
				got = got[len(got)-3:]
			}
			if tc.width == 1 {
				want = []string{"a", "0", "9"}
			}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("frame:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			d.Close()
		})
	}
}

// TestTTYNoDrift checks the screen after every call: as many lines as
// headers printed plus layers seen, the cursor alone on the line below,
// no line as wide as the screen — over thousands of random updates.
func TestTTYNoDrift(t *testing.T) {
	const width = 100
	var b syncBuffer
	c := newClock()
	d := New(&b, Options{TTY: ptr(true), Width: width, Now: c.Now})
	s := &screen{width: width}
	fed := 0
	step := func(headers int) {
		t.Helper()
		d.mu.Lock()
		layers := d.drawn
		d.mu.Unlock()
		out := b.From(fed)
		if err := s.feed(out); err != nil {
			t.Fatal(err)
		}
		fed += len(out)
		lines := s.text(t)
		if len(lines) != headers+layers {
			t.Fatalf("%d lines on screen, want %d headers + %d layers", len(lines), headers, layers)
		}
		for _, l := range lines[headers:] {
			if len(l) >= width {
				t.Fatalf("line %q: %d columns, screen has %d", l, len(l), width)
			}
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	ids := map[string]bool{}
	headers := 0
	for i := range 3000 {
		if i%400 == 0 {
			d.Printf("header %d", i)
			headers++
			step(headers)
		}
		id := fmt.Sprintf("sha256:%064x", rng.IntN(12))
		ids[id] = true
		total := rng.Int64N(5e9)
		d.Update(id, Status(rng.IntN(len(statusNames))), rng.Int64N(total+1), total)
		c.Advance(time.Duration(rng.IntN(150)) * time.Millisecond)
		step(headers)
	}
	d.Close()
	step(headers)
	if d.drawn != len(ids) {
		t.Errorf("final frame has %d layers, want %d", d.drawn, len(ids))
	}
	if s.maxUp != len(ids) {
		t.Errorf("largest cursor-up = %d, want %d", s.maxUp, len(ids))
	}
}

// TestTTYThrottle: updates closer than the interval draw nothing new until
// the interval has passed (the ticker is kept out of it by a long
// interval).
func TestTTYThrottle(t *testing.T) {
	var b syncBuffer
	c := newClock()
	d := New(&b, Options{TTY: ptr(true), Width: 100, Interval: time.Hour, Now: c.Now})
	defer d.Close()
	d.Update(digestA, Downloading, 1, 100) // first: drawn at once
	n := len(b.String())
	for i := range int64(50) {
		d.Update(digestA, Downloading, 2+i, 100)
		c.Advance(time.Second)
	}
	if len(b.String()) != n {
		t.Fatalf("drew within the interval")
	}
	c.Advance(time.Hour)
	d.Update(digestA, Downloading, 99, 100)
	lines := render(t, b.String(), 100)
	if len(lines) != 1 || !strings.Contains(lines[0], "      99B/100B") {
		t.Errorf("screen after the interval: %q", lines)
	}
}

// TestConcurrent is for the race detector: parallel layers, headers and
// the ticker, on a terminal and off one.
func TestConcurrent(t *testing.T) {
	for _, tty := range []bool{true, false} {
		t.Run(fmt.Sprint("tty=", tty), func(t *testing.T) {
			var b syncBuffer
			d := New(&b, Options{TTY: &tty, Width: 120, Interval: time.Millisecond})
			var wg sync.WaitGroup
			const layers = 8
			for g := range layers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					id := fmt.Sprintf("sha256:%012x%052d", g, 0)
					d.Update(id, Waiting, 0, 0)
					r := d.Reader(strings.NewReader(strings.Repeat("x", 64<<10)), id, Downloading, 0, 64<<10)
					buf := make([]byte, 97)
					for {
						if _, err := r.Read(buf); err != nil {
							break
						}
					}
					d.Update(id, DownloadComplete, 64<<10, 64<<10)
					for i := range int64(200) {
						d.Update(id, Extracting, i, 200)
					}
					d.Printf("layer %d done", g)
					d.Update(id, PullComplete, 0, 0)
				}()
			}
			wg.Wait()
			d.Close()
			var lines []string
			if tty {
				lines = render(t, b.String(), 120)
			} else {
				lines = strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
			}
			for g := range layers {
				want := []string{
					fmt.Sprintf("layer %d done", g),
					fmt.Sprintf("%012x: Pull complete", g),
				}
				if !tty {
					want = append(want, fmt.Sprintf("%012x: Waiting", g), fmt.Sprintf("%012x: Download complete", g))
				}
				for _, w := range want {
					if n := countLine(lines, w); n != 1 {
						t.Errorf("%q appears %d times, want once in:\n%s", w, n, strings.Join(lines, "\n"))
					}
				}
			}
			if tty && len(lines) != 2*layers {
				t.Errorf("%d lines, want %d:\n%s", len(lines), 2*layers, strings.Join(lines, "\n"))
			}
		})
	}
}

func countLine(lines []string, want string) int {
	n := 0
	for _, l := range lines {
		if l == want {
			n++
		}
	}
	return n
}
