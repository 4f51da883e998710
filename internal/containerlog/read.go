package containerlog

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"

	"github.com/berth-project/berth/internal/errdefs"
)

// Log drivers, as the monitor names them.
const (
	DriverK8sFile  = "k8s-file"
	DriverJSONFile = "json-file"
	DriverNone     = "none"
)

// PollInterval is how often Follow looks for new records and rotations.
const PollInterval = 50 * time.Millisecond

// Options select what Read shows.
type Options struct {
	// Since and Until keep the lines whose time (that of their first
	// record) is in [Since, Until]; zero is unbounded.
	Since, Until time.Time
	// Tail is how many lines to show: the last ones of the window, by where
	// they begin, counting both streams and the rotated files; -1 is all.
	// (The zero Options shows nothing but what Follow brings.) A line is a
	// stream's records from one after a full record up to its next full
	// record (or the end); the other stream's may come in between.
	Tail int
	// Follow keeps reading new records, across rotations, until ctx is done,
	// Until has passed, or Done reports that the writer is gone.
	Follow bool
	// Timestamps prefixes each line with its time, in UTC with nine digits
	// of fraction and a space, as docker logs -t does.
	Timestamps bool
	// Done reports (for Follow) that the writer is gone: the container's
	// exit file exists, or its monitor is dead. Once it reports true, Read
	// reads what is written to its end and returns. Nil: never.
	Done func() bool
}

// TimestampFormat is the format of the Timestamps prefix (docker's
// RFC3339NanoFixed).
const TimestampFormat = "2006-01-02T15:04:05.000000000Z07:00"

// Read copies the log of driver at path — path.N … path.1 (the rotated
// files, oldest first) and then path — to stdout and stderr by stream,
// joining partial records into lines. Records that do not parse (junk, a
// write torn by a crash) are skipped. A log that does not exist is empty:
// a container that never wrote has no file yet.
//
// Without Follow, Read shows what is written when it is called and
// returns. With Follow it keeps on, and returns nil once Done (or Until)
// ends it and everything written is read, or ctx.Err() when ctx is done.
func Read(ctx context.Context, path, driver string, opts Options, stdout, stderr io.Writer) error {
	rd := &reader{path: path, opts: opts}
	switch driver {
	case "", DriverK8sFile:
	case DriverJSONFile:
		rd.json = true
	case DriverNone:
		return fmt.Errorf("logs of %s: logs are not kept for this container (log driver none): %w", path, errdefs.ErrFailedPrecondition)
	default:
		return fmt.Errorf("log driver %q: %w", driver, errdefs.ErrInvalidArgument)
	}
	if stdout == nil {
		stdout = io.Discard
	}
	if stderr == nil {
		stderr = io.Discard
	}
	rd.out = [2]*bufio.Writer{bufio.NewWriterSize(stdout, chunkSize), bufio.NewWriterSize(stderr, chunkSize)}
	rd.p.json = rd.json
	err := rd.run(ctx)
	if ferr := rd.flush(); err == nil {
		err = ferr
	}
	return err
}

// reader is one Read.
type reader struct {
	path string
	json bool
	opts Options
	p    parser
	out  [2]*bufio.Writer
	last int // the stream written last, flushed before the other is written
	// Per stream: the next record begins a line; the current line is shown.
	begins, shown [2]bool
	skip          int
	ts            []byte
}

func (rd *reader) run(ctx context.Context) error {
	files, err := openChain(ctx, rd.path)
	if err != nil {
		return err
	}
	defer func() { closeAll(files) }()
	if len(files) == 0 {
		if !rd.opts.Follow {
			return nil
		}
		// Nothing written yet: all that comes is new.
		if files, err = rd.waitChain(ctx); len(files) == 0 || err != nil {
			return err
		}
		rd.begins = [2]bool{true, true}
		return rd.forward(ctx, files, 0, 0, -1)
	}
	// Without Follow, Read stops where the newest file ends now.
	fi, err := files[len(files)-1].f.Stat()
	if err != nil {
		return fmt.Errorf("container log: %w", err)
	}
	end := fi.Size()
	st, err := rd.tailStart(files, end, rd.opts.Tail)
	if err != nil {
		return err
	}
	rd.begins, rd.skip = st.begins, st.skip
	if rd.opts.Follow {
		end = -1
	}
	return rd.forward(ctx, files, st.file, st.off, end)
}

// forward reads the chain from file i at off. end ≥ 0 stops in the newest
// file of the chain at end; end < 0 follows. A file is closed once read
// (its entry in files set to nil); the caller closes the rest.
func (rd *reader) forward(ctx context.Context, files []*logFile, i int, off, end int64) error {
	last := len(files) - 1
	limit := func(i int) int64 {
		if i == last {
			return end
		}
		return -1 // an older file is complete: the writer closed it
	}
	lr := newLineReader(files[i].f, off, limit(i))
	for ; i < last; i++ {
		if err := rd.drain(ctx, lr); err != nil {
			return err
		}
		files[i].f.Close()
		files[i] = nil
		lr = newLineReader(files[i+1].f, 0, limit(i+1))
	}
	cur := files[last]
	if end >= 0 {
		return rd.drain(ctx, lr)
	}
	final := false
	for {
		if err := rd.drain(ctx, lr); err != nil {
			return err
		}
		fi, err := os.Stat(rd.path)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("container log: %w", err)
		}
		if err != nil || idOf(fi) != cur.id {
			// Rotated (or removed): the writer closed cur before, so
			// what it holds now is all of it.
			if err := rd.drain(ctx, lr); err != nil {
				return err
			}
			next, err := successor(ctx, rd.path, cur.id)
			if err != nil {
				return err
			}
			if next != nil {
				cur.f.Close()
				cur, files[last] = next, next
				lr = newLineReader(cur.f, 0, -1)
				continue
			}
		} else if fi, err := cur.f.Stat(); err == nil && fi.Size() < lr.pos() {
			// Emptied in place (max-file 1): start again at its top.
			lr.reset(0)
			continue
		}
		if final {
			return nil
		}
		if err := rd.flush(); err != nil {
			return err
		}
		if rd.finished() {
			final = true // read to the end once more
			continue
		}
		if err := sleep(ctx, PollInterval); err != nil {
			return err
		}
	}
}

// finished reports that following is over: the writer is gone or Until
// has passed.
func (rd *reader) finished() bool {
	if !rd.opts.Until.IsZero() && time.Now().After(rd.opts.Until) {
		return true
	}
	return rd.opts.Done != nil && rd.opts.Done()
}

// waitChain waits (following) for the log to be created; none if the
// writer is done first.
func (rd *reader) waitChain(ctx context.Context) ([]*logFile, error) {
	for {
		done := rd.finished()
		files, err := openChain(ctx, rd.path)
		if len(files) > 0 || err != nil || done {
			return files, err
		}
		if err := sleep(ctx, PollInterval); err != nil {
			return nil, err
		}
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// drain shows the complete records that lr has to give.
func (rd *reader) drain(ctx context.Context, lr *lineReader) error {
	for n := 0; ; n++ {
		if n%1024 == 1023 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		line, ok, err := lr.next()
		if err != nil {
			return fmt.Errorf("container log %s: %w", rd.path, err)
		}
		if !ok {
			return nil
		}
		r, ok := rd.p.parse(line)
		if !ok {
			continue
		}
		if err := rd.show(r); err != nil {
			return err
		}
	}
}

func (rd *reader) inWindow(t time.Time) bool {
	return (rd.opts.Since.IsZero() || !t.Before(rd.opts.Since)) &&
		(rd.opts.Until.IsZero() || !t.After(rd.opts.Until))
}

// show writes r's content to its stream if its line is shown.
func (rd *reader) show(r record) error {
	s := r.stream
	if rd.begins[s] {
		rd.shown[s] = rd.inWindow(r.time)
		if rd.shown[s] && rd.skip > 0 {
			rd.skip--
			rd.shown[s] = false
		}
	}
	if rd.shown[s] {
		if rd.last != s {
			if err := rd.out[rd.last].Flush(); err != nil {
				return fmt.Errorf("write log of %s: %w", rd.path, err)
			}
			rd.last = s
		}
		w := rd.out[s]
		if rd.begins[s] && rd.opts.Timestamps {
			rd.ts = r.time.UTC().AppendFormat(rd.ts[:0], TimestampFormat)
			rd.ts = append(rd.ts, ' ')
			w.Write(rd.ts)
		}
		if _, err := w.Write(r.content); err != nil {
			return fmt.Errorf("write log of %s: %w", rd.path, err)
		}
	}
	rd.begins[s] = !r.partial
	return nil
}

func (rd *reader) flush() error {
	for _, w := range rd.out {
		if err := w.Flush(); err != nil {
			return fmt.Errorf("write log of %s: %w", rd.path, err)
		}
	}
	return nil
}
