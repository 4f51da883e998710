package mount

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Info is one line of /proc/self/mountinfo (the fields Berth uses).
type Info struct {
	ID, Parent int
	Root       string // the path within the filesystem that is mounted
	Point      string // where it is mounted
}

// Mounts parses /proc/self/mountinfo, in the kernel's order.
func Mounts() ([]Info, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, fmt.Errorf("read mountinfo: %w", err)
	}
	defer f.Close()
	var out []Info
	s := bufio.NewScanner(f)
	s.Buffer(make([]byte, 64*1024), 1024*1024)
	for s.Scan() {
		fields := strings.Fields(s.Text())
		if len(fields) < 5 {
			continue
		}
		id, err1 := strconv.Atoi(fields[0])
		parent, err2 := strconv.Atoi(fields[1])
		if err1 != nil || err2 != nil {
			continue
		}
		out = append(out, Info{ID: id, Parent: parent, Root: Unescape(fields[3]), Point: Unescape(fields[4])})
	}
	if err := s.Err(); err != nil {
		return nil, fmt.Errorf("read mountinfo: %w", err)
	}
	return out, nil
}

// Top returns the id of the topmost mount on path (0: none).
func Top(path string) int {
	ms, err := Mounts()
	if err != nil {
		return 0
	}
	on := map[int]bool{}
	for _, m := range ms {
		if m.Point == path {
			on[m.ID] = true
		}
	}
	for _, m := range ms {
		if m.Point == path && on[m.Parent] {
			delete(on, m.Parent) // covered by m
		}
	}
	for id := range on {
		return id
	}
	return 0
}

// Unescape decodes the octal escapes (\040 for a space…) of mountinfo.
func Unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
