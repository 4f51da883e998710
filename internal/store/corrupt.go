package store

import (
	"bufio"
	"bytes"
	"runtime/debug"
	"strings"
)

// boltPanicking reports whether the goroutine is panicking from inside
// bbolt. Called from a deferred function while a
// panic unwinds, before recover.
//
// bbolt panics rather than errs on a damaged page ("invalid freelist page",
// "assertion failed: Page expected to be: 2, …"), and a panic inside
// bolt.Open would leave the file locked for the rest of the process. So the
// store turns exactly those panics into an error naming the file, and lets
// every other panic (a bug in the caller's fn) go on untouched. The stack is
// the one place that tells them apart: the first frame below the panic that
// is not the runtime's own is bbolt's, or not.
func boltPanicking() bool {
	stack := debug.Stack()
	sc := bufio.NewScanner(bytes.NewReader(stack))
	sc.Buffer(make([]byte, 0, 64*1024), len(stack)+1)
	inPanic := false
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "\t") || line == "" {
			continue // file:line of the frame above
		}
		switch {
		case !inPanic:
			inPanic = strings.HasPrefix(line, "panic(")
		case strings.HasPrefix(line, "runtime."):
			// panicmem, sigpanic, …: the runtime raising it for the frame below
		default:
			return strings.HasPrefix(line, "go.etcd.io/bbolt")
		}
	}
	return false
}
