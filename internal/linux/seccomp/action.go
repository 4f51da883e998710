package seccomp

import (
	"fmt"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// actionBase maps each spec action to its SECCOMP_RET_* value (before data).
var actionBase = map[specs.LinuxSeccompAction]uint32{
	specs.ActKill:        unix.SECCOMP_RET_KILL_THREAD,
	specs.ActKillThread:  unix.SECCOMP_RET_KILL_THREAD,
	specs.ActKillProcess: unix.SECCOMP_RET_KILL_PROCESS,
	specs.ActTrap:        unix.SECCOMP_RET_TRAP,
	specs.ActErrno:       unix.SECCOMP_RET_ERRNO,
	specs.ActTrace:       unix.SECCOMP_RET_TRACE,
	specs.ActAllow:       unix.SECCOMP_RET_ALLOW,
	specs.ActLog:         unix.SECCOMP_RET_LOG,
	specs.ActNotify:      unix.SECCOMP_RET_USER_NOTIF,
}

// retValue returns the filter return value for action with the optional
// errnoRet. SCMP_ACT_ERRNO and SCMP_ACT_TRACE carry errnoRet (EPERM when
// unset, as runc does); the other actions take none.
func retValue(action specs.LinuxSeccompAction, errnoRet *uint) (uint32, error) {
	base, ok := actionBase[action]
	if !ok {
		return 0, fmt.Errorf("unknown seccomp action %q: %w", action, errdefs.ErrInvalidArgument)
	}
	switch action {
	case specs.ActErrno, specs.ActTrace:
		data := uint(unix.EPERM)
		if errnoRet != nil {
			data = *errnoRet
		}
		if data > unix.SECCOMP_RET_DATA {
			return 0, fmt.Errorf("seccomp action %s: errnoRet %d out of range: %w", action, data, errdefs.ErrInvalidArgument)
		}
		return base | uint32(data), nil
	}
	if errnoRet != nil {
		return 0, fmt.Errorf("seccomp action %s takes no errnoRet (got %d): %w", action, *errnoRet, errdefs.ErrInvalidArgument)
	}
	return base, nil
}

// denies reports whether ret refuses the syscall without asking anyone: the
// default actions after which unknown (newer) syscalls get ENOSYS.
func denies(ret uint32) bool {
	switch ret & unix.SECCOMP_RET_ACTION_FULL {
	case unix.SECCOMP_RET_KILL_THREAD, unix.SECCOMP_RET_KILL_PROCESS, unix.SECCOMP_RET_TRAP, unix.SECCOMP_RET_ERRNO:
		return true
	}
	return false
}
