package integration

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// The seccomp user-notification structures of <linux/seccomp.h>, which
// x/sys/unix does not define (as internal/linux/seccomp's tests have them).
type (
	seccompData struct {
		Nr   int32
		Arch uint32
		IP   uint64
		Args [6]uint64
	}
	seccompNotif struct {
		ID    uint64
		Pid   uint32
		Flags uint32
		Data  seccompData
	}
	seccompNotifResp struct {
		ID    uint64
		Val   int64
		Error int32
		Flags uint32
	}
)

// seccompNotifRecv waits for the next notification on a listener fd.
func seccompNotifRecv(fd int) (seccompNotif, error) {
	var n seccompNotif
	_, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.SECCOMP_IOCTL_NOTIF_RECV, uintptr(unsafe.Pointer(&n)))
	if errno != 0 {
		return n, errno
	}
	return n, nil
}

// seccompNotifSend answers notification id: the syscall fails with errno.
func seccompNotifSend(fd int, id uint64, errno unix.Errno) error {
	resp := seccompNotifResp{ID: id, Error: -int32(errno)}
	_, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.SECCOMP_IOCTL_NOTIF_SEND, uintptr(unsafe.Pointer(&resp)))
	if e != 0 {
		return e
	}
	return nil
}
