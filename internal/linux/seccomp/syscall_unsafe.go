package seccomp

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// seccompCall is seccomp(2) with a pointer argument (nil for NULL); it returns
// the result and errno (0 on success).
func seccompCall(op uint, flags uint, arg unsafe.Pointer) unix.Errno {
	_, errno := seccompResult(op, flags, arg)
	return errno
}

func seccompResult(op uint, flags uint, arg unsafe.Pointer) (uintptr, unix.Errno) {
	r, _, errno := unix.Syscall(unix.SYS_SECCOMP, uintptr(op), uintptr(flags), uintptr(arg))
	return r, errno
}

// loadFilter installs prog into the calling thread with flags and returns
// seccomp(2)'s result: the listener fd with NEW_LISTENER, else 0.
func loadFilter(prog []unix.SockFilter, flags uint) (int, unix.Errno) {
	fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	r, errno := seccompResult(unix.SECCOMP_SET_MODE_FILTER, flags, unsafe.Pointer(&fprog))
	return int(r), errno
}
