package seccomp

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// The user-notification structures of <linux/seccomp.h>, which x/sys/unix
// does not define: what a seccomp agent reads from a listener fd
// (SCMP_ACT_NOTIFY) and answers.
type (
	// Data is the syscall a notification is about.
	Data struct {
		Nr   int32
		Arch uint32
		IP   uint64
		Args [6]uint64
	}
	// Notification is one intercepted syscall.
	Notification struct {
		ID    uint64
		Pid   uint32
		Flags uint32
		Data  Data
	}
	notifResp struct {
		ID    uint64
		Val   int64
		Error int32
		Flags uint32
	}
)

// Receive waits for the next notification on a listener fd.
func Receive(fd int) (Notification, error) {
	var n Notification
	_, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.SECCOMP_IOCTL_NOTIF_RECV, uintptr(unsafe.Pointer(&n)))
	if errno != 0 {
		return n, errno
	}
	return n, nil
}

// RespondErrno answers notification id: the syscall fails with errno.
func RespondErrno(fd int, id uint64, errno unix.Errno) error {
	resp := notifResp{ID: id, Error: -int32(errno)}
	_, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.SECCOMP_IOCTL_NOTIF_SEND, uintptr(unsafe.Pointer(&resp)))
	if e != 0 {
		return e
	}
	return nil
}
