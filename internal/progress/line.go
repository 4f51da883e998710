package progress

import "time"

// line formats a layer for a terminal frame, in fewer than width columns
// (writing the last column would make some terminals wrap, and the
// cursor-up count would no longer hold):
//
//	0f1e2d3c4b5a: Downloading [=========>          ]  12.3MB/45.6MB  8.1MB/s
//
// When it does not fit, the bar goes first, then the speed, then the
// line is cut.
func (l *layer) line(now time.Time, width int) string {
	head := l.short + ": " + l.status.String()
	if !l.status.moving() {
		return fit(head, width)
	}
	nums := " " + counts(l.current, l.total)
	speed := ""
	if r := l.meter.rate(now); r >= 1 {
		speed = "  " + HumanSize(r) + "/s"
	}
	var choices []string
	if l.total > 0 {
		choices = append(choices, head+" "+bar(l.current, l.total)+nums+speed)
	}
	choices = append(choices, head+nums+speed, head+nums)
	for _, s := range choices {
		if len(s) < width {
			return s
		}
	}
	return fit(head+nums, width)
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
