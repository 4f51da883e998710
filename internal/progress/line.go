package progress

import "time"

// line formats a layer for a terminal frame, in fewer than width columns
// (writing the last column would make some terminals wrap, and the
// cursor-up count would no longer hold):
//
//	0f1e2d3c4b5a: Downloading [=========>          ]  12.3MB/45.6MB  8.1MB/s
//
// The bar is the first thing left out when the line does not fit.
func (l *layer) line(now time.Time, width int) string {
	head := l.short + ": " + l.status.String()
	if !l.status.moving() {
		return fit(head, width)
	}
	tail := " " + counts(l.current, l.total)
	if r := l.meter.rate(now); r >= 1 {
		tail += "  " + HumanSize(r) + "/s"
	}
	if l.total > 0 {
		withBar := head + " " + bar(l.current, l.total) + tail
		if len(withBar) < width {
			return withBar
		}
	}
	return fit(head+tail, width)
}

// fit cuts s to fewer than width columns (runes; the text is ASCII but
// for ids a caller chose).
func fit(s string, width int) string {
	limit := max(width-1, 1)
	n := 0
	for i := range s {
		if n == limit {
			return s[:i]
		}
		n++
	}
	return s
}
