package main

import "testing"

func TestParseTail(t *testing.T) {
	for in, want := range map[string]int{"0": 0, "10": 10, "-1": -1, "-5": -1} {
		if got, err := parseTail(in); err != nil || got != want {
			t.Errorf("parseTail(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	if _, err := parseTail("x"); err == nil {
		t.Error("parseTail(x) succeeded")
	}
}
