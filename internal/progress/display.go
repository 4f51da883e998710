package progress

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// Options configure a Display. The zero value detects the terminal.
type Options struct {
	// Quiet prints nothing at all, not even Printf's lines.
	Quiet bool
	// TTY forces the terminal mode on or off; nil detects it: on when the
	// writer is an *os.File open on a terminal.
	TTY *bool
	// Width is the number of columns a layer line may use; 0 asks the
	// terminal, and 80 is taken when there is none to ask.
	Width int
	// Interval is how often the layer lines are redrawn on a terminal
	// while they change; 0 means 100 ms.
	Interval time.Duration
	// Now is the clock, for the speeds and the throttle; nil means time.Now.
	Now func() time.Time
}

// Display draws the progress of a set of layers to a writer. Create it
// with New and end it with Close; it is safe for concurrent use.
type Display struct {
	w        io.Writer
	quiet    bool
	tty      bool
	fd       int // the terminal's, or -1
	width    int // from Options; 0 means ask fd
	interval time.Duration
	now      func() time.Time

	mu       sync.Mutex
	layers   []*layer // in the order they first appeared
	byID     map[string]*layer
	drawn    int // layer lines of the last frame, above the cursor
	dirty    bool
	lastDraw time.Time
	closed   bool

	stop chan struct{} // closed by Close to end the ticker
	done chan struct{} // closed by the ticker when it has ended
}

// layer is what a Display knows of one id.
type layer struct {
	short   string
	status  Status
	current int64
	total   int64
	meter   meter
}

// New returns a Display that writes to w. On a terminal it starts a
// ticker that redraws while layers move; Close stops it.
func New(w io.Writer, opts Options) *Display {
	d := &Display{
		w:        w,
		quiet:    opts.Quiet,
		fd:       -1,
		width:    opts.Width,
		interval: opts.Interval,
		now:      opts.Now,
		byID:     make(map[string]*layer),
	}
	if d.interval <= 0 {
		d.interval = 100 * time.Millisecond
	}
	if d.now == nil {
		d.now = time.Now
	}
	fd, isTerm := terminalFD(w)
	if isTerm {
		d.fd = fd
	}
	d.tty = isTerm
	if opts.TTY != nil {
		d.tty = *opts.TTY
	}
	if d.tty && !d.quiet {
		d.stop = make(chan struct{})
		d.done = make(chan struct{})
		go d.tick()
	}
	return d
}

// ShortID returns the name docker shows for a layer: the first 12
// characters of a digest's hex, "sha256:a1b2c3d4e5f6…" → "a1b2c3d4e5f6".
// Any other id is returned whole.
func ShortID(id string) string {
	if _, hex, ok := strings.Cut(id, ":"); ok && len(hex) >= 12 {
		return hex[:12]
	}
	return id
}

// Update sets the state of the layer id (a digest string, or any name)
// and its bytes done of total (total ≤ 0: unknown). A new id adds a line
// below the others.
func (d *Display) Update(id string, status Status, current, total int64) {
	if d.quiet {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return
	}
	now := d.now()
	l, ok := d.byID[id]
	if !ok {
		l = &layer{short: ShortID(id), status: -1}
		d.byID[id] = l
		d.layers = append(d.layers, l)
	}
	changed := l.status != status
	if changed {
		l.meter.reset()
	}
	l.status, l.current, l.total = status, current, total
	if status.moving() {
		l.meter.add(now, current)
	}
	if !d.tty {
		if changed && !status.moving() {
			d.write([]byte(l.short + ": " + status.String() + "\n"))
		}
		return
	}
	d.dirty = true
	if now.Sub(d.lastDraw) >= d.interval {
		d.draw(now, "")
	}
}

// Printf prints a line (a newline is added when missing) above the layer
// lines, for headers such as "latest: Pulling from library/busybox".
// After Close it prints below the final frame, for trailers such as
// "Digest: sha256:…". Quiet mode prints nothing.
func (d *Display) Printf(format string, a ...any) {
	if d.quiet {
		return
	}
	s := fmt.Sprintf(format, a...)
	if !strings.HasSuffix(s, "\n") {
		s += "\n"
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.tty || d.closed {
		d.write([]byte(s))
		return
	}
	d.draw(d.now(), s)
}

// Close draws the final frame on a terminal and stops the ticker. Updates
// after Close are ignored. Close may be called more than once.
func (d *Display) Close() {
	if d.quiet {
		return
	}
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return
	}
	if d.tty {
		d.draw(d.now(), "")
	}
	d.closed = true
	d.mu.Unlock()
	if d.stop != nil {
		close(d.stop)
		<-d.done
	}
}

// tick redraws while there is something new to show: a change, or a speed
// that moves with time.
func (d *Display) tick() {
	defer close(d.done)
	t := time.NewTicker(d.interval)
	defer t.Stop()
	for {
		select {
		case <-d.stop:
			return
		case <-t.C:
			d.mu.Lock()
			if !d.closed && (d.dirty || d.anyMoving()) {
				d.draw(d.now(), "")
			}
			d.mu.Unlock()
		}
	}
}

func (d *Display) anyMoving() bool {
	for _, l := range d.layers {
		if l.status.moving() {
			return true
		}
	}
	return false
}

// write sends p to the writer. Progress output is advisory: a failed
// write (a closed pipe) must not fail the pull, so errors are dropped.
func (d *Display) write(p []byte) {
	_, _ = d.w.Write(p)
}

// draw writes one frame: back up over the layer lines of the last frame,
// print header (if any) in their place, then every layer line, each
// erased before it is written. d.mu must be held.
func (d *Display) draw(now time.Time, header string) {
	var b bytes.Buffer
	if d.drawn > 0 {
		fmt.Fprintf(&b, "\x1b[%dA\r", d.drawn)
	}
	if header != "" {
		b.WriteString("\x1b[J") // a header line may wrap: clear all below
		b.WriteString(header)
	}
	width := d.columns()
	for _, l := range d.layers {
		b.WriteString("\r\x1b[2K") // \r too: a raw-mode terminal keeps the column at \n
		b.WriteString(l.line(now, width))
		b.WriteByte('\n')
	}
	d.drawn = len(d.layers)
	d.dirty = false
	d.lastDraw = now
	if b.Len() > 0 {
		d.write(b.Bytes())
	}
}

// columns returns the width a layer line may take.
func (d *Display) columns() int {
	w := d.width
	if w <= 0 && d.fd >= 0 {
		w = terminalWidth(d.fd)
	}
	if w <= 0 {
		w = 80
	}
	return w
}
