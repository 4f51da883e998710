package main

import (
	"os"
	"slices"
	"strings"
	"testing"
)

func TestParseMountinfo(t *testing.T) {
	lines := []string{
		// proc(5)'s example.
		"36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue",
		"",
		`40 36 0:33 / /with\040space rw shared:7 master:3 - tmpfs tmp\134fs rw,size=64k`,
		"41 36 0:34 / /sys/fs/cgroup ro,nosuid - cgroup2 cgroup2 ro",
	}
	got, err := parseMountinfo(lines)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("%d mounts, want 3: %+v", len(got), got)
	}
	m := got[0]
	if m.ID != 36 || m.Parent != 35 || m.Dev != "98:0" || m.Root != "/mnt1" || m.Mountpoint != "/mnt2" ||
		!slices.Equal(m.Options, []string{"rw", "noatime"}) || !slices.Equal(m.Optional, []string{"master:1"}) ||
		m.Propagation != "slave" || m.FSType != "ext3" || m.Source != "/dev/root" ||
		!slices.Equal(m.SuperOptions, []string{"rw", "errors=continue"}) {
		t.Errorf("proc(5) example parsed as %+v", m)
	}
	if m := got[1]; m.Mountpoint != "/with space" || m.Source != `tmp\fs` || m.Propagation != "shared,slave" {
		t.Errorf("escaped line parsed as %+v", m)
	}
	if m := got[2]; m.Propagation != "private" || len(m.Optional) != 0 || m.FSType != "cgroup2" {
		t.Errorf("private line parsed as %+v", m)
	}
	for _, bad := range []string{"36 35 98:0 /mnt1 /mnt2 rw", "x 35 98:0 / / rw - ext3 /dev/root rw"} {
		if _, err := parseMountinfo([]string{bad}); err == nil {
			t.Errorf("parseMountinfo(%q): no error", bad)
		}
	}
}

// TestParseOwnMountinfo parses this process's mount table: every line, and a
// root mount among them.
func TestParseOwnMountinfo(t *testing.T) {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	got, err := parseMountinfo(lines)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(lines) {
		t.Errorf("%d mounts from %d lines", len(got), len(lines))
	}
	if !slices.ContainsFunc(got, func(m mount) bool { return m.Mountpoint == "/" }) {
		t.Errorf("no mount at /")
	}
}
