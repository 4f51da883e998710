package containerlog

import (
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// testLog writes a log as berth-monitor does (internal/monitor/logfile.go
// does not export its writer): one record per line of a chunk, the
// chunk's unterminated tail a partial record, rotation by renaming before a
// record would pass maxSize, a record never split across files.
type testLog struct {
	t        testing.TB
	mu       sync.Mutex
	path     string
	driver   string
	maxSize  int64
	maxFiles int
	f        *os.File
	size     int64
	rotated  int
	clock    time.Time // the time of the next record
	tick     time.Duration
	zone     *time.Location
	recs     []modelRecord // every record written, for want
}

type modelRecord struct {
	stream  string
	content string
	partial bool
	time    time.Time
}

var epoch = time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)

func newTestLog(t testing.TB, path, driver string, maxSize int64, maxFiles int) *testLog {
	l := &testLog{t: t, path: path, driver: driver, maxSize: maxSize, maxFiles: maxFiles,
		clock: epoch, tick: time.Millisecond, zone: time.FixedZone("X", 2*3600)}
	l.open(os.O_APPEND)
	t.Cleanup(func() { l.f.Close() })
	return l
}

func (l *testLog) open(flag int) {
	f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_CREATE|flag, 0o640)
	if err != nil {
		l.t.Error(err)
	}
	st, err := f.Stat()
	if err != nil {
		l.t.Error(err)
	}
	l.f, l.size = f, st.Size()
}

// write records chunk as output of stream, each record at the next tick.
func (l *testLog) write(stream, chunk string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for chunk != "" {
		line, full := chunk, false
		if i := strings.IndexByte(chunk, '\n'); i >= 0 {
			line, full = chunk[:i+1], true
		}
		chunk = chunk[len(line):]
		l.put(l.record(stream, line, full, l.clock))
		l.recs = append(l.recs, modelRecord{stream, line, !full, l.clock})
		l.clock = l.clock.Add(l.tick)
	}
}

func (l *testLog) record(stream, line string, full bool, t time.Time) []byte {
	if l.driver == DriverJSONFile {
		b, err := json.Marshal(struct {
			Log    string `json:"log"`
			Stream string `json:"stream"`
			Time   string `json:"time"`
		}{line, stream, t.UTC().Format(time.RFC3339Nano)})
		if err != nil {
			l.t.Error(err)
		}
		return append(b, '\n')
	}
	tag := " F "
	if !full {
		tag, line = " P ", line+"\n"
	}
	return []byte(t.In(l.zone).Format("2006-01-02T15:04:05.000000000Z07:00") + " " + stream + tag + line)
}

// raw appends bytes as they are (junk, torn writes).
func (l *testLog) raw(b string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	n, err := l.f.WriteString(b)
	l.size += int64(n)
	if err != nil {
		l.t.Error(err)
	}
}

func (l *testLog) put(rec []byte) {
	if l.maxSize > 0 && l.size > 0 && l.size+int64(len(rec)) > l.maxSize {
		l.rotate()
	}
	n, err := l.f.Write(rec)
	l.size += int64(n)
	if err != nil {
		l.t.Error(err)
	}
}

func (l *testLog) rotate() {
	if err := l.f.Close(); err != nil {
		l.t.Error(err)
	}
	if l.maxFiles > 1 {
		for i := min(l.rotated, l.maxFiles-2); i >= 1; i-- {
			if err := os.Rename(l.path+"."+strconv.Itoa(i), l.path+"."+strconv.Itoa(i+1)); err != nil {
				l.t.Error(err)
			}
		}
		if err := os.Rename(l.path, l.path+".1"); err != nil {
			l.t.Error(err)
		}
		l.rotated = min(l.rotated+1, l.maxFiles-1)
	}
	l.open(os.O_TRUNC)
}

// want is what Read should show of the records written, by the package's
// definition: a stream's line runs from a record after a full one (or the
// first) to its next full record; its time is its first record's; Tail
// keeps the last lines, by where they begin, of those in the window.
func (l *testLog) want(opts Options) (stdout, stderr string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	type line struct {
		stream string
		text   strings.Builder
	}
	var lines []*line
	open := map[string]*line{}
	for _, r := range l.recs {
		ln := open[r.stream]
		if ln == nil {
			ln = &line{stream: r.stream}
			inWindow := (opts.Since.IsZero() || !r.time.Before(opts.Since)) && (opts.Until.IsZero() || !r.time.After(opts.Until))
			if inWindow {
				lines = append(lines, ln)
			}
			if opts.Timestamps {
				ln.text.WriteString(r.time.UTC().Format(TimestampFormat) + " ")
			}
			open[r.stream] = ln
		}
		ln.text.WriteString(r.content)
		if !r.partial {
			open[r.stream] = nil
		}
	}
	if opts.Tail >= 0 && opts.Tail < len(lines) {
		lines = lines[len(lines)-opts.Tail:]
	}
	var out [2]strings.Builder
	for _, ln := range lines {
		i := 0
		if ln.stream == "stderr" {
			i = 1
		}
		out[i].WriteString(ln.text.String())
	}
	return out[0].String(), out[1].String()
}
