package rootless

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// Range is a range of subordinate ids: Count ids from Start.
type Range struct {
	Start, Count int
}

// readRanges returns the ranges of the user (by name or by uid) in a
// subordinate id file (/etc/subuid, /etc/subgid): lines "user:start:count".
// A missing file has no ranges.
func readRanges(path, name string, uid int) ([]Range, error) {
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("subordinate ids: %w", err)
	}
	defer f.Close()
	r, err := parseRanges(f, name, uid)
	if err != nil {
		return nil, fmt.Errorf("subordinate ids %s: %w", path, err)
	}
	return r, nil
}

// parseRanges reads the lines of a subordinate id file for the user; lines
// it cannot read are skipped, as shadow's tools skip them.
func parseRanges(r io.Reader, name string, uid int) ([]Range, error) {
	var out []Range
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, ":")
		if len(f) != 3 || (f[0] != name && f[0] != strconv.Itoa(uid)) {
			continue
		}
		start, err1 := strconv.Atoi(f[1])
		count, err2 := strconv.Atoi(f[2])
		if err1 != nil || err2 != nil || start < 0 || count <= 0 {
			continue
		}
		out = append(out, Range{Start: start, Count: count})
	}
	return out, sc.Err()
}

// mapArgs returns the arguments of newuidmap/newgidmap after the pid: the
// user's own id as 0, then the ranges from 1 on.
func mapArgs(own int, ranges []Range) []string {
	args := []string{"0", strconv.Itoa(own), "1"}
	next := 1
	for _, r := range ranges {
		args = append(args, strconv.Itoa(next), strconv.Itoa(r.Start), strconv.Itoa(r.Count))
		next += r.Count
	}
	return args
}
