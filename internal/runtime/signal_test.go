package runtime

import (
	"errors"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/errdefs"
)

func TestParseSignal(t *testing.T) {
	for in, want := range map[string]unix.Signal{
		"KILL":        unix.SIGKILL,
		"SIGKILL":     unix.SIGKILL,
		"kill":        unix.SIGKILL,
		"sigkill":     unix.SIGKILL,
		"9":           unix.SIGKILL,
		"TERM":        unix.SIGTERM,
		"HUP":         unix.SIGHUP,
		"SIGUSR1":     unix.SIGUSR1,
		"winch":       unix.SIGWINCH,
		"1":           unix.SIGHUP,
		"64":          unix.Signal(64),
		"SIGRTMIN+1":  unix.Signal(35),
		"rtmin+1":     unix.Signal(35),
		"SIGRTMIN+0":  unix.Signal(34),
		"SIGRTMIN+30": unix.Signal(64),
		"SIGRTMAX-1":  unix.Signal(63),
		"RTMAX-0":     unix.Signal(64),
		"SIGRTMAX-30": unix.Signal(34),
	} {
		got, err := ParseSignal(in)
		if err != nil || got != want {
			t.Errorf("ParseSignal(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{
		"0", "65", "-1", "FOO", "SIGFOO", "", "SIG",
		"SIGRTMIN+31", "SIGRTMIN+-5", "SIGRTMAX-31", "SIGRTMAX--1", "SIGRTMIN+x",
	} {
		got, err := ParseSignal(in)
		if !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Errorf("ParseSignal(%q) = %d, %v; want InvalidArgument", in, got, err)
			continue
		}
		if in != "" && !strings.Contains(err.Error(), strings.TrimLeft(in, "-")) {
			t.Errorf("ParseSignal(%q) error %q does not name the input", in, err)
		}
	}
}
