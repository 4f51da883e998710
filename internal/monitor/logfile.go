package monitor

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
)

// The container's streams, as named in log records.
const (
	streamStdout = "stdout"
	streamStderr = "stderr"
)

// k8sTime is the time format of a k8s-file (CRI) record.
const k8sTime = "2006-01-02T15:04:05.000000000Z07:00"

// logFile writes the container's output as records of its driver and
// rotates the file by size. One chunk of output (one read) becomes one
// record per line: a full line ends its record ("F" in k8s-file, a "log"
// ending in "\n" in json-file); a chunk's unterminated tail is a partial
// record ("P", or a "log" without "\n"), continued by the next record of
// the same stream. A record is one write and never split across files.
type logFile struct {
	mu       sync.Mutex
	path     string
	driver   string
	maxSize  int64
	maxFiles int
	f        *os.File
	size     int64
	rotated  int    // rotated files that exist: path.1 … path.<rotated>
	rec      []byte // reused record buffer
	// onError reports a failed write (nil once reported until one works).
	onError func(error)
	failing bool
}

// openLogFile opens (appending to) the log of cfg.
func openLogFile(cfg LogConfig, onError func(error)) (*logFile, error) {
	l := &logFile{path: cfg.Path, driver: cfg.Driver, maxSize: cfg.MaxSize, maxFiles: cfg.MaxFiles, onError: onError}
	if l.driver == DriverNone {
		return l, nil
	}
	if err := l.open(os.O_APPEND); err != nil {
		return nil, err
	}
	for l.rotated < l.maxFiles-1 {
		if _, err := os.Lstat(l.path + "." + strconv.Itoa(l.rotated+1)); err != nil {
			break
		}
		l.rotated++
	}
	return l, nil
}

func (l *logFile) open(flag int) error {
	f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_CREATE|flag, 0o640)
	if err != nil {
		return fmt.Errorf("open container log: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("open container log: %w", err)
	}
	l.f, l.size = f, st.Size()
	return nil
}

// Write records chunk p of stream at time now, in one write (two when
// the file rotates in between).
func (l *logFile) Write(stream string, p []byte, now time.Time) {
	if l.driver == DriverNone || len(p) == 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.rec = l.rec[:0]
	for len(p) > 0 {
		line := p
		full := false
		if i := bytes.IndexByte(p, '\n'); i >= 0 {
			line, full = p[:i+1], true
		}
		p = p[len(line):]
		n := len(l.rec)
		l.rec = l.record(l.rec, stream, line, full, now)
		if l.maxSize > 0 && n > 0 && l.size+int64(len(l.rec)) > l.maxSize {
			// This record goes to the next file.
			rec := l.rec[n:]
			l.put(l.rec[:n])
			l.rec = append(l.rec[:0], rec...)
		}
	}
	l.put(l.rec)
}

// record appends the record of line (with its "\n" when full) to b.
func (l *logFile) record(b []byte, stream string, line []byte, full bool, now time.Time) []byte {
	if l.driver == DriverJSONFile {
		b = append(b, `{"log":`...)
		b = appendJSONString(b, line)
		b = append(b, `,"stream":"`...)
		b = append(b, stream...)
		b = append(b, `","time":"`...)
		b = now.UTC().AppendFormat(b, time.RFC3339Nano)
		return append(b, "\"}\n"...)
	}
	b = now.AppendFormat(b, k8sTime)
	b = append(b, ' ')
	b = append(b, stream...)
	if full {
		b = append(b, " F "...)
		b = append(b, line...) // its "\n" ends the record
		return b
	}
	b = append(b, " P "...)
	b = append(b, line...)
	return append(b, '\n')
}

// put writes whole records, rotating first when they would take the file
// past maxSize.
func (l *logFile) put(rec []byte) {
	if len(rec) == 0 {
		return
	}
	if l.f == nil {
		if err := l.open(os.O_APPEND); err != nil {
			l.fail(err)
			return
		}
	}
	if l.maxSize > 0 && l.size > 0 && l.size+int64(len(rec)) > l.maxSize {
		if err := l.rotate(); err != nil {
			l.fail(err)
			return
		}
	}
	n, err := l.f.Write(rec)
	l.size += int64(n)
	if err != nil {
		l.fail(fmt.Errorf("write container log %s: %w", l.path, err))
		return
	}
	l.failing = false
}

func (l *logFile) fail(err error) {
	if !l.failing && l.onError != nil {
		l.onError(err)
	}
	l.failing = true
}

// rotate renames path.N-2 → path.N-1, …, path → path.1 and starts an
// empty path; with maxFiles ≤ 1 it only empties path.
func (l *logFile) rotate() error {
	if err := l.f.Close(); err != nil {
		l.f = nil
		return fmt.Errorf("close container log %s: %w", l.path, err)
	}
	l.f = nil
	if l.maxFiles > 1 {
		// Only the files that exist move; the oldest is renamed over.
		for i := min(l.rotated, l.maxFiles-2); i >= 1; i-- {
			if err := os.Rename(l.path+"."+strconv.Itoa(i), l.path+"."+strconv.Itoa(i+1)); err != nil {
				return fmt.Errorf("rotate container log %s: %w", l.path, err)
			}
		}
		if err := os.Rename(l.path, l.path+".1"); err != nil {
			return fmt.Errorf("rotate container log %s: %w", l.path, err)
		}
		l.rotated = min(l.rotated+1, l.maxFiles-1)
	}
	return l.open(os.O_TRUNC)
}

// Close closes the file.
func (l *logFile) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}

// appendJSONString appends s as a JSON string; invalid UTF-8 becomes
// U+FFFD, as encoding/json does.
func appendJSONString(b, s []byte) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}
