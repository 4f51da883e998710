package progress

import (
	"strings"
	"testing"
)

// The expectations are those of docker's go-units HumanSize.
func TestHumanSize(t *testing.T) {
	for _, tc := range []struct {
		in   float64
		want string
	}{
		{0, "0B"},
		{999, "999B"},
		{1000, "1kB"},
		{1024, "1.024kB"},
		{1.5e6, "1.5MB"},
		{45.6e6, "45.6MB"},
		{1234567, "1.235MB"},
		{999999, "1000kB"}, // four significant digits round up in place
		{1e9, "1GB"},
		{2.5e12, "2.5TB"},
		{1e27, "1000YB"}, // no unit past yotta
	} {
		if got := HumanSize(tc.in); got != tc.want {
			t.Errorf("HumanSize(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestBarAndCounts(t *testing.T) {
	for _, tc := range []struct {
		cur, total int64
		filled     int
	}{
		{0, 100, 0}, {50, 100, 25}, {100, 100, 50}, {150, 100, 50}, {-5, 100, 0},
	} {
		b := bar(tc.cur, tc.total)
		if len(b) != barWidth+3 || b[0] != '[' || b[len(b)-1] != ']' {
			t.Fatalf("bar(%d, %d) = %q: malformed", tc.cur, tc.total, b)
		}
		if n := strings.Count(b, "="); n != tc.filled {
			t.Errorf("bar(%d, %d) has %d '=', want %d", tc.cur, tc.total, n, tc.filled)
		}
	}
	for _, tc := range []struct {
		cur, total int64
		want       string
	}{
		{12.3e6, 45.6e6, "  12.3MB/45.6MB"},
		{3146000, 27090000, " 3.146MB/27.09MB"},
		{500, 0, "    500B"},       // total unknown
		{2000, 1000, "     2kB"},   // past the total: the total is hidden
		{-1, 1000, "      0B/1kB"}, // never negative
	} {
		if got := counts(tc.cur, tc.total); got != tc.want {
			t.Errorf("counts(%d, %d) = %q, want %q", tc.cur, tc.total, got, tc.want)
		}
	}
}

func TestShortID(t *testing.T) {
	for in, want := range map[string]string{
		digestA:          "a1b2c3d4e5f6",
		"sha512:abc":     "sha512:abc",
		"config":         "config",
		"a1b2c3d4e5f6ff": "a1b2c3d4e5f6ff",
	} {
		if got := ShortID(in); got != want {
			t.Errorf("ShortID(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestStatusString(t *testing.T) {
	if got := Status(99).String(); got != "Unknown" {
		t.Errorf("Status(99) = %q", got)
	}
	if got := LayerAlreadyExists.String(); got != "Layer already exists" {
		t.Errorf("LayerAlreadyExists = %q", got)
	}
}
