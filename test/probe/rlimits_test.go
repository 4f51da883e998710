package main

import (
	"fmt"
	"os/exec"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/testenv"
)

func TestRlimitNamesMatchKernelNumbers(t *testing.T) {
	for num, name := range map[int]string{
		unix.RLIMIT_CPU: "RLIMIT_CPU", unix.RLIMIT_CORE: "RLIMIT_CORE", unix.RLIMIT_NPROC: "RLIMIT_NPROC",
		unix.RLIMIT_NOFILE: "RLIMIT_NOFILE", unix.RLIMIT_MEMLOCK: "RLIMIT_MEMLOCK", unix.RLIMIT_AS: "RLIMIT_AS",
		unix.RLIMIT_RTTIME: "RLIMIT_RTTIME",
	} {
		if rlimitNames[num] != name {
			t.Errorf("rlimitNames[%d] = %q, want %q", num, rlimitNames[num], name)
		}
	}
}

// TestReportNofile checks that the probe reports the soft RLIMIT_NOFILE it was
// started with, not the one the Go runtime raises itself to.
func TestReportNofile(t *testing.T) {
	sh := testenv.RequiresBinary(t, "sh")
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	if lim.Max < 600 || lim.Max == unix.RLIM_INFINITY {
		t.Skipf("hard RLIMIT_NOFILE %d leaves no room for a distinct soft limit", lim.Max)
	}
	for _, soft := range []uint64{512, lim.Max - 1, lim.Max} {
		cmd := exec.Command(sh, "-c", fmt.Sprintf(`ulimit -S -n %d && exec "$0" report`, soft), testenv.Binary(t, "probe"))
		stdout, stderr, code := run(t, cmd)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", cmd.Args, code, stderr)
		}
		var r report
		decode(t, stdout, &r)
		got := r.Rlimits["RLIMIT_NOFILE"]
		if got.Soft != int64(soft) || got.Hard != int64(lim.Max) || r.Errors["rlimits"] != "" {
			t.Errorf("soft %d: reported %+v (errors %v), want %d/%d", soft, got, r.Errors, soft, lim.Max)
		}
	}
}
