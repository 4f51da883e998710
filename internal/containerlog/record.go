package containerlog

import (
	"bytes"
	"encoding/json"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// The streams, as indices of per-stream state.
const (
	stdout = 0
	stderr = 1
)

// record is one parsed log record. content is what its stream wrote: a
// full record's ends in "\n", a partial record's does not. content may
// point into the parser's scratch buffer or into the line: it is valid
// until the next parse.
type record struct {
	stream  int
	partial bool
	time    time.Time
	content []byte
}

// parser turns the lines of one driver into records.
type parser struct {
	json    bool
	scratch []byte
}

// parse parses line (one record with its "\n"). ok is false for a line
// that is not a record of the driver (junk, a torn write): the caller
// skips it.
func (p *parser) parse(line []byte) (r record, ok bool) {
	if len(line) == 0 || line[len(line)-1] != '\n' {
		return r, false
	}
	if p.json {
		return p.parseJSON(line)
	}
	return parseK8s(line)
}

// parseK8s parses a CRI record: "<time> <stream> <tags> <content>\n",
// where the first of the ':'-separated tags is "F" (full) or "P" (partial).
func parseK8s(line []byte) (r record, ok bool) {
	rest := line
	field := func() []byte {
		i := bytes.IndexByte(rest, ' ')
		if i < 0 {
			return nil
		}
		f := rest[:i]
		rest = rest[i+1:]
		return f
	}
	ts, stream := field(), field()
	if ts == nil || stream == nil {
		return r, false
	}
	if r.stream, ok = streamIndex(stream); !ok {
		return r, false
	}
	// The tags end at a space, or at the end of the line for an empty
	// partial record.
	var tags []byte
	if i := bytes.IndexByte(rest, ' '); i >= 0 {
		tags, rest = rest[:i], rest[i+1:]
	} else {
		tags, rest = rest[:len(rest)-1], rest[len(rest)-1:]
	}
	if i := bytes.IndexByte(tags, ':'); i >= 0 {
		tags = tags[:i]
	}
	switch string(tags) {
	case "F":
		r.content = rest // with the "\n" that ends the record
	case "P":
		r.partial, r.content = true, rest[:len(rest)-1]
	default:
		return r, false
	}
	t, err := time.Parse(time.RFC3339Nano, string(ts))
	if err != nil {
		return r, false
	}
	r.time = t
	return r, true
}

func streamIndex(b []byte) (int, bool) {
	switch string(b) {
	case "stdout":
		return stdout, true
	case "stderr":
		return stderr, true
	}
	return 0, false
}

// parseJSON parses a json-file record. The monitor's (and docker's)
// records, {"log":"…","stream":"…","time":"…"}, take a fast path; anything
// else that is a JSON object with these keys goes through encoding/json.
func (p *parser) parseJSON(line []byte) (record, bool) {
	if r, ok := p.fastJSON(line); ok {
		return r, true
	}
	var v struct {
		Log    *string `json:"log"`
		Stream string  `json:"stream"`
		Time   string  `json:"time"`
	}
	if err := json.Unmarshal(line, &v); err != nil || v.Log == nil {
		return record{}, false
	}
	var r record
	var ok bool
	if r.stream, ok = streamIndex([]byte(v.Stream)); !ok {
		return r, false
	}
	t, err := time.Parse(time.RFC3339Nano, v.Time)
	if err != nil {
		return r, false
	}
	p.scratch = append(p.scratch[:0], *v.Log...)
	r.time, r.content = t, p.scratch
	r.partial = len(r.content) == 0 || r.content[len(r.content)-1] != '\n'
	return r, true
}

func (p *parser) fastJSON(line []byte) (r record, ok bool) {
	const (
		head   = `{"log":"`
		stream = `,"stream":"`
		tm     = `","time":"`
		tail   = "\"}\n"
	)
	rest, ok := bytes.CutPrefix(line, []byte(head))
	if !ok {
		return r, false
	}
	if r.content, rest, ok = p.jsonString(rest); !ok {
		return r, false
	}
	if rest, ok = bytes.CutPrefix(rest, []byte(stream)); !ok {
		return r, false
	}
	i := bytes.IndexByte(rest, '"')
	if i < 0 {
		return r, false
	}
	if r.stream, ok = streamIndex(rest[:i]); !ok {
		return r, false
	}
	if rest, ok = bytes.CutPrefix(rest[i:], []byte(tm)); !ok {
		return r, false
	}
	ts, ok := bytes.CutSuffix(rest, []byte(tail))
	if !ok {
		return r, false
	}
	t, err := time.Parse(time.RFC3339Nano, string(ts))
	if err != nil {
		return r, false
	}
	r.time = t
	r.partial = len(r.content) == 0 || r.content[len(r.content)-1] != '\n'
	return r, true
}

// jsonString decodes the JSON string at the start of b, its opening quote
// already consumed, and returns it and what follows its closing quote.
func (p *parser) jsonString(b []byte) (s, rest []byte, ok bool) {
	i := bytes.IndexAny(b, `"\`)
	if i < 0 {
		return nil, nil, false
	}
	if b[i] == '"' {
		return b[:i], b[i+1:], utf8.Valid(b[:i])
	}
	out := append(p.scratch[:0], b[:i]...)
	defer func() { p.scratch = out[:0] }()
	for i < len(b) {
		c := b[i]
		switch {
		case c == '"':
			return out, b[i+1:], utf8.Valid(out)
		case c < 0x20:
			return nil, nil, false
		case c != '\\':
			out = append(out, c)
			i++
			continue
		}
		if i+1 >= len(b) {
			return nil, nil, false
		}
		i += 2
		switch b[i-1] {
		case '"', '\\', '/':
			out = append(out, b[i-1])
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, n := decodeU(b[i:])
			if n == 0 {
				return nil, nil, false
			}
			i += n
			out = utf8.AppendRune(out, r)
		default:
			return nil, nil, false
		}
	}
	return nil, nil, false
}

// decodeU decodes the hex digits of a \u escape (and of the low half of a
// surrogate pair that follows it) and returns the rune and the bytes used.
func decodeU(b []byte) (rune, int) {
	r := hex4(b)
	if r < 0 {
		return 0, 0
	}
	if !utf16.IsSurrogate(r) {
		return r, 4
	}
	if len(b) >= 10 && b[4] == '\\' && b[5] == 'u' {
		if lo := hex4(b[6:]); lo >= 0 {
			if d := utf16.DecodeRune(r, lo); d != utf8.RuneError {
				return d, 10
			}
		}
	}
	return utf8.RuneError, 4
}

func hex4(b []byte) rune {
	if len(b) < 4 {
		return -1
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return -1
		}
		r = r<<4 | rune(c)
	}
	return r
}
