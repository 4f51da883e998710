package seccomp

import (
	"fmt"

	"github.com/berth-project/berth/internal/errdefs"
	"golang.org/x/sys/unix"
)

// Install loads the filter into the calling thread (all threads with TSYNC).
// The caller has locked its OS thread, which is the one that will execve, and
// has set no_new_privs unless it holds CAP_SYS_ADMIN. It returns the
// user-notification listener fd, or -1 when no rule uses SCMP_ACT_NOTIFY.
func (f *Filter) Install() (int, error) {
	if len(f.prog) == 0 {
		return -1, fmt.Errorf("install seccomp filter: empty program: %w", errdefs.ErrInvalidArgument)
	}
	prog := make([]unix.SockFilter, len(f.prog))
	for i, ins := range f.prog {
		prog[i] = unix.SockFilter{Code: ins.Op, Jt: ins.Jt, Jf: ins.Jf, K: ins.K}
	}
	r, errno := loadFilter(prog, f.flags)
	if errno != 0 {
		return -1, fmt.Errorf("install seccomp filter (%d instructions, flags %#x): %w", len(prog), f.flags, errno)
	}
	if f.flags&unix.SECCOMP_FILTER_FLAG_NEW_LISTENER != 0 {
		return r, nil
	}
	if r != 0 {
		// TSYNC without TSYNC_ESRCH reports the thread that could not sync.
		return -1, fmt.Errorf("install seccomp filter: thread %d could not be synchronised", r)
	}
	return -1, nil
}

// Supported reports whether the kernel has seccomp filter mode: a NULL
// program is refused with EFAULT where it does, EINVAL where it does not.
func Supported() bool {
	return seccompCall(unix.SECCOMP_SET_MODE_FILTER, 0, nil) == unix.EFAULT
}
