package main

import (
	"fmt"
	"math"
	"runtime"
	"syscall"

	"golang.org/x/sys/unix"
)

// rlimitNames are the resource limits by number (RLIMIT_CPU = 0 …
// RLIMIT_RTTIME = 15), spelled as in the OCI runtime spec.
var rlimitNames = [...]string{
	"RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_DATA", "RLIMIT_STACK",
	"RLIMIT_CORE", "RLIMIT_RSS", "RLIMIT_NPROC", "RLIMIT_NOFILE",
	"RLIMIT_MEMLOCK", "RLIMIT_AS", "RLIMIT_LOCKS", "RLIMIT_SIGPENDING",
	"RLIMIT_MSGQUEUE", "RLIMIT_NICE", "RLIMIT_RTPRIO", "RLIMIT_RTTIME",
}

// rlimit is one limit. Unlimited (RLIM_INFINITY) is reported as -1.
type rlimit struct {
	Soft int64 `json:"soft"`
	Hard int64 `json:"hard"`
}

func rlimitValue(v uint64) int64 {
	if v == unix.RLIM_INFINITY || v > math.MaxInt64 {
		return -1
	}
	return int64(v)
}

// readRlimits returns every limit by name. Errors name the limits that could
// not be read or are uncertain; the map still holds every limit it could read.
func readRlimits() (map[string]rlimit, error) {
	out := make(map[string]rlimit, len(rlimitNames))
	var errs []error
	for i, name := range rlimitNames {
		var lim unix.Rlimit
		if err := unix.Prlimit(0, i, nil, &lim); err != nil {
			errs = append(errs, fmt.Errorf("getrlimit %s: %w", name, err))
			continue
		}
		if i == unix.RLIMIT_NOFILE && lim.Max > 0 && lim.Cur == lim.Max-1 {
			orig, err := originalNofile()
			if err != nil {
				errs = append(errs, fmt.Errorf("RLIMIT_NOFILE soft limit may be the Go runtime's raised value: %w", err))
			} else {
				lim = orig
			}
		}
		out[name] = rlimit{Soft: rlimitValue(lim.Cur), Hard: rlimitValue(lim.Max)}
	}
	if len(errs) > 0 {
		return out, fmt.Errorf("%v", errs)
	}
	return out, nil
}

// originalNofile returns RLIMIT_NOFILE as the probe was started with.
//
// At start-up the Go runtime raises the soft RLIMIT_NOFILE of its own process
// to hard-1 whenever it is lower than that, and puts the original back only in
// the children it starts. So the probe starts itself traced: the child stops
// at its execve, after the original limit was restored and before any Go code
// ran, and its limit is read from outside with prlimit. The child is then
// killed. It is needed only when the current soft limit is hard-1.
func originalNofile() (unix.Rlimit, error) {
	var lim unix.Rlimit
	runtime.LockOSThread() // ptrace requests must come from the tracing thread
	defer runtime.UnlockOSThread()
	pid, err := syscall.ForkExec("/proc/self/exe", []string{"probe", "exit", "0"}, &syscall.ProcAttr{
		Sys: &syscall.SysProcAttr{Ptrace: true},
	})
	if err != nil {
		return lim, fmt.Errorf("start traced /proc/self/exe: %w", err)
	}
	defer func() {
		_ = unix.Kill(pid, unix.SIGKILL)
		for {
			var ws unix.WaitStatus
			if _, err := unix.Wait4(pid, &ws, 0, nil); err != unix.EINTR {
				return
			}
		}
	}()
	var ws unix.WaitStatus
	for {
		_, err := unix.Wait4(pid, &ws, 0, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return lim, fmt.Errorf("wait for traced child %d: %w", pid, err)
		}
		break
	}
	if !ws.Stopped() {
		return lim, fmt.Errorf("traced child %d did not stop at exec (status %#x)", pid, ws)
	}
	if err := unix.Prlimit(pid, unix.RLIMIT_NOFILE, nil, &lim); err != nil {
		return lim, fmt.Errorf("prlimit of traced child %d: %w", pid, err)
	}
	return lim, nil
}
