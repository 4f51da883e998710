package spec

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/berth-project/berth/internal/errdefs"
)

// signals are Linux's signal numbers as most architectures (x86, arm,
// riscv…) number them.
var signals = map[string]int{
	"HUP": 1, "INT": 2, "QUIT": 3, "ILL": 4, "TRAP": 5, "ABRT": 6, "IOT": 6,
	"BUS": 7, "FPE": 8, "KILL": 9, "USR1": 10, "SEGV": 11, "USR2": 12,
	"PIPE": 13, "ALRM": 14, "TERM": 15, "STKFLT": 16, "CHLD": 17, "CONT": 18,
	"STOP": 19, "TSTP": 20, "TTIN": 21, "TTOU": 22, "URG": 23, "XCPU": 24,
	"XFSZ": 25, "VTALRM": 26, "PROF": 27, "WINCH": 28, "IO": 29, "POLL": 29,
	"PWR": 30, "SYS": 31,
}

const sigRTMin, sigRTMax = 34, 64

// signalName is the canonical name of signal n (1..64).
func signalName(n int) string {
	for _, name := range []string{"HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV", "USR2", "PIPE", "ALRM", "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG", "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "PWR", "SYS"} {
		if signals[name] == n {
			return "SIG" + name
		}
	}
	switch {
	case n == sigRTMin:
		return "SIGRTMIN"
	case n == sigRTMax:
		return "SIGRTMAX"
	case n > sigRTMin && n < sigRTMax:
		return "SIGRTMIN+" + strconv.Itoa(n-sigRTMin)
	}
	return strconv.Itoa(n)
}

// ParseSignal reads a signal as docker's signal.ParseSignal does — a
// number, or a name with or without SIG in any case, RTMIN+n and RTMAX-n
// included — and returns its canonical name and number.
func ParseSignal(s string) (string, int, error) {
	bad := fmt.Errorf("signal %q: not a signal: %w", s, errdefs.ErrInvalidArgument)
	if n, err := strconv.Atoi(s); err == nil {
		if n < 1 || n > sigRTMax {
			return "", 0, bad
		}
		return signalName(n), n, nil
	}
	name := strings.TrimPrefix(strings.ToUpper(s), "SIG")
	if n, ok := signals[name]; ok {
		return signalName(n), n, nil
	}
	for _, rt := range []struct {
		prefix string
		base   int
		sign   int
	}{{"RTMIN", sigRTMin, 1}, {"RTMAX", sigRTMax, -1}} {
		rest, ok := strings.CutPrefix(name, rt.prefix)
		if !ok {
			continue
		}
		off := 0
		if rest != "" {
			op := "+"
			if rt.sign < 0 {
				op = "-"
			}
			digits, ok := strings.CutPrefix(rest, op)
			v, err := strconv.Atoi(digits)
			if !ok || err != nil || v < 1 || v > sigRTMax-sigRTMin-1 || digits != strconv.Itoa(v) {
				return "", 0, bad
			}
			off = v
		}
		n := rt.base + rt.sign*off
		return signalName(n), n, nil
	}
	return "", 0, bad
}
