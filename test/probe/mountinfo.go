package main

import (
	"fmt"
	"strconv"
	"strings"
)

// mount is one line of /proc/self/mountinfo (see proc(5)):
//
//	36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
//
// Propagation is derived from the optional fields: "shared" (shared:N),
// "slave" (master:N), "unbindable", joined with "," when several apply (a
// mount can be "shared,slave"), and "private" when there are none.
type mount struct {
	ID           int      `json:"id"`
	Parent       int      `json:"parent"`
	Dev          string   `json:"dev"`
	Root         string   `json:"root"`
	Mountpoint   string   `json:"mountpoint"`
	Options      []string `json:"options"`
	Optional     []string `json:"optional"`
	Propagation  string   `json:"propagation"`
	FSType       string   `json:"fstype"`
	Source       string   `json:"source"`
	SuperOptions []string `json:"super_options"`
}

// parseMountinfo parses the lines of a mountinfo file.
func parseMountinfo(lines []string) ([]mount, error) {
	mounts := []mount{}
	for i, l := range lines {
		if strings.TrimSpace(l) == "" {
			continue
		}
		m, err := parseMountinfoLine(l)
		if err != nil {
			return nil, fmt.Errorf("mountinfo line %d %q: %w", i+1, l, err)
		}
		mounts = append(mounts, m)
	}
	return mounts, nil
}

func parseMountinfoLine(l string) (mount, error) {
	var m mount
	f := strings.Fields(l)
	sep := -1
	for i := 6; i < len(f); i++ {
		if f[i] == "-" {
			sep = i
			break
		}
	}
	if len(f) < 7 || sep < 0 || len(f) < sep+3 {
		return m, fmt.Errorf("want 6 fields, optional fields, \"-\", fstype, source and options")
	}
	var err error
	if m.ID, err = strconv.Atoi(f[0]); err != nil {
		return m, fmt.Errorf("mount id: %w", err)
	}
	if m.Parent, err = strconv.Atoi(f[1]); err != nil {
		return m, fmt.Errorf("parent id: %w", err)
	}
	m.Dev = f[2]
	m.Root = unescapeOctal(f[3])
	m.Mountpoint = unescapeOctal(f[4])
	m.Options = strings.Split(f[5], ",")
	m.Optional = append([]string{}, f[6:sep]...)
	m.Propagation = propagation(m.Optional)
	m.FSType = f[sep+1]
	m.Source = unescapeOctal(f[sep+2])
	m.SuperOptions = []string{}
	if len(f) > sep+3 {
		m.SuperOptions = strings.Split(f[sep+3], ",")
	}
	return m, nil
}

func propagation(optional []string) string {
	var kinds []string
	for _, want := range []struct{ prefix, kind string }{
		{"shared:", "shared"}, {"master:", "slave"}, {"unbindable", "unbindable"},
	} {
		for _, o := range optional {
			if strings.HasPrefix(o, want.prefix) {
				kinds = append(kinds, want.kind)
				break
			}
		}
	}
	if len(kinds) == 0 {
		return "private"
	}
	return strings.Join(kinds, ",")
}

// unescapeOctal undoes the kernel's escaping of space, tab, newline and
// backslash in mountinfo paths ("\040" → " ").
func unescapeOctal(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
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
