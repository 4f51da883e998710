package criu

import (
	"bufio"
	"os"
	"strings"
)

// LogErrors returns the "Error (…)" lines of a CRIU log (at most max, the
// first ones: the root cause comes first), without their timestamps, or
// nil when the log cannot be read.
func LogErrors(path string, max int) []string {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() && len(out) < max {
		line := sc.Text()
		i := strings.Index(line, "Error (")
		if i < 0 {
			continue
		}
		out = append(out, strings.TrimSpace(line[i:]))
	}
	return out
}

// knownFailures explains CRIU errors whose cause is not in the message.
var knownFailures = []struct{ match, hint string }{
	{"Unexpected rt vDSO area bounds", "this CRIU does not know the [vvar_vclock] mapping of Linux 6.13 and later on x86; CRIU 4.1 does (upstream CRIU pull request 2539)"},
}

// Hint returns an explanation of the first known failure among a log's
// error lines, or "".
func Hint(lines []string) string {
	for _, l := range lines {
		for _, k := range knownFailures {
			if strings.Contains(l, k.match) {
				return k.hint
			}
		}
	}
	return ""
}
