package seccomp

import (
	"testing"

	"golang.org/x/sys/unix"
)

// TestTables spot-checks the generated tables against numbers known
// independently (x/sys/unix for the native ABI, the ABI documents for the rest).
func TestTables(t *testing.T) {
	for _, tc := range []struct {
		table map[string]uint32
		name  string
		want  uint32
	}{
		{syscallsX86_64, "read", 0},
		{syscallsX86_64, "getppid", unix.SYS_GETPPID},
		{syscallsX86_64, "personality", unix.SYS_PERSONALITY},
		{syscallsX86_64, "clone3", unix.SYS_CLONE3},
		{syscallsX86_64, "mseal", 462},
		{syscallsX86_64, "rt_sigaction", 13},
		{syscallsX32, "read", x32Bit | 0},
		{syscallsX32, "rt_sigaction", x32Bit | 512},
		{syscallsX32, "execve", x32Bit | 520},
		{syscallsX86, "exit", 1},
		{syscallsX86, "socketcall", 102},
		{syscallsX86, "chown32", 212},
		{syscallsX86, "clone3", 435},
	} {
		if got, ok := tc.table[tc.name]; !ok || got != tc.want {
			t.Errorf("%s = %#x (present %v), want %#x", tc.name, got, ok, tc.want)
		}
	}
	if _, ok := syscallsX86_64["chown32"]; ok {
		t.Errorf("x86_64 table has the i386-only chown32")
	}
	if _, ok := syscallsX32["uselib"]; ok {
		t.Errorf("x32 table has the 64-bit-only uselib")
	}
}
