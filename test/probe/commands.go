package main

import (
	"os"
	"strconv"
	"time"
)

// exitWith exits with the status in arg.
func exitWith(arg string) {
	n, err := strconv.Atoi(arg)
	if err != nil || n < 0 || n > 255 {
		fail(2, "exit status %q: want a number from 0 to 255", arg)
	}
	os.Exit(n)
}

// sleep sleeps for the number of seconds in arg.
func sleep(arg string) {
	s, err := strconv.ParseFloat(arg, 64)
	if err != nil || s < 0 {
		fail(2, "sleep seconds %q: want a non-negative number", arg)
	}
	time.Sleep(time.Duration(s * float64(time.Second)))
}

// write writes text to path, creating it (mode 0644) or truncating it.
func write(path, text string) {
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		fail(1, "%v", err) // the error names the path
	}
}
