// Package idmap makes idmapped mounts: bind mounts whose files appear with
// their owners shifted by a user namespace's id mappings, so that a
// container in a user namespace sees a host directory's owners as they are
// on disk (no recursive chown).
//
// A worked example. A container maps its ids 0–65535 to host ids
// 100000–165535. A host directory holds files owned by 0:0 and 1000:1000.
// Bound plainly, the container sees them owned by nobody (65534): neither
// id is mapped. Bound through an idmapped mount made with the container's
// own user namespace, an on-disk id u is presented as host id 100000+u,
// which the container sees as u again: 0:0 and 1000:1000, and a file the
// container's uid 1000 creates is written to disk as 1000.
//
// The mount is made by a privileged parent and handed to the container as
// a detached mount (a file descriptor):
//
//	fd := Clone(source, recursive)              // open_tree(OPEN_TREE_CLONE)
//	SetUserns(fd, userns, recursiveIdmap)       // mount_setattr(MOUNT_ATTR_IDMAP)
//	Send(sock, fd, destination) → Receive(sock) // SCM_RIGHTS
//	Attach(fd, destinationHandle)               // move_mount, in the container
//
// The user namespace is the container's (/proc/<init>/ns/user), or one made
// for the mount's own mappings by NewUserns.
package idmap

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"syscall"

	"golang.org/x/sys/unix"
)

// Clone returns a detached copy of the mount tree at source (only the
// mount at source unless recursive), as an O_PATH-like file.
func Clone(source string, recursive bool) (*os.File, error) {
	flags := unix.OPEN_TREE_CLONE | unix.OPEN_TREE_CLOEXEC
	if recursive {
		flags |= unix.AT_RECURSIVE
	}
	fd, err := unix.OpenTree(unix.AT_FDCWD, source, uint(flags))
	if err != nil {
		return nil, fmt.Errorf("open_tree %s: %w", source, err)
	}
	return os.NewFile(uintptr(fd), source), nil
}

// SetUserns idmaps the detached mount mnt with the mappings of the user
// namespace userns (on every mount of the tree if recursive). A filesystem
// or kernel that cannot idmap (tmpfs before Linux 6.3, overlayfs before
// 5.19, …) gives an error saying so.
func SetUserns(mnt, userns *os.File, recursive bool) error {
	flags := unix.AT_EMPTY_PATH
	if recursive {
		flags |= unix.AT_RECURSIVE
	}
	attr := &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_IDMAP, Userns_fd: uint64(userns.Fd())}
	err := unix.MountSetattr(int(mnt.Fd()), "", uint(flags), attr)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS):
		return fmt.Errorf("idmap %s: the kernel or the filesystem does not support idmapped mounts: %w", mnt.Name(), err)
	}
	return fmt.Errorf("idmap %s: %w", mnt.Name(), err)
}

// Attach moves the detached mount mnt onto dst, an O_PATH handle of the
// destination (as resolved safely inside the rootfs).
func Attach(mnt, dst *os.File) error {
	err := unix.MoveMount(int(mnt.Fd()), "", int(dst.Fd()), "", unix.MOVE_MOUNT_F_EMPTY_PATH|unix.MOVE_MOUNT_T_EMPTY_PATH)
	if err != nil {
		return fmt.Errorf("move_mount %s: %w", mnt.Name(), err)
	}
	return nil
}

// NewUserns returns a handle on a new user namespace with the given id
// mappings, for idmapping a mount with mappings other than the
// container's. As runc does, a child is started in the namespace under
// PTRACE_TRACEME, so it stops at its execve before running anything; the
// handle keeps the namespace alive after the child is killed.
func NewUserns(uids, gids []syscall.SysProcIDMap) (*os.File, error) {
	// The tracer is the forking thread: keep it until the child is gone.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	p, err := os.StartProcess("/proc/self/exe", []string{"berth-runtime (userns for an idmapped mount)", "--version"}, &os.ProcAttr{
		Sys: &syscall.SysProcAttr{
			Cloneflags:  unix.CLONE_NEWUSER,
			UidMappings: uids,
			GidMappings: gids,
			Ptrace:      true,
			Pdeathsig:   unix.SIGKILL,
		},
	})
	if err != nil {
		return nil, fmt.Errorf("start a process in a user namespace for an idmapped mount: %w", err)
	}
	defer func() {
		_ = p.Kill()
		_, _ = p.Wait()
	}()
	path := fmt.Sprintf("/proc/%d/ns/user", p.Pid)
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return f, nil
}

// Send passes the detached mount mnt over the unix socket sock, with name
// (the mount's destination) as the message.
func Send(sock, mnt *os.File, name string) error {
	if err := unix.Sendmsg(int(sock.Fd()), []byte(name), unix.UnixRights(int(mnt.Fd())), nil, 0); err != nil {
		return fmt.Errorf("send idmapped mount %s: %w", name, err)
	}
	return nil
}

// Receive returns one mount sent by Send and its name. Whitespace before
// the name is skipped: on a stream socket that also carries
// newline-terminated JSON, a newline may be read with the message.
func Receive(sock *os.File) (*os.File, string, error) {
	buf := make([]byte, 4096)
	oob := make([]byte, unix.CmsgSpace(4))
	var name []byte
	for {
		n, oobn, _, _, err := unix.Recvmsg(int(sock.Fd()), buf, oob, unix.MSG_CMSG_CLOEXEC)
		if err != nil {
			return nil, "", fmt.Errorf("receive idmapped mount: %w", err)
		}
		if n == 0 && oobn == 0 {
			return nil, "", errors.New("receive idmapped mount: the runtime closed the socket")
		}
		name = append(name, buf[:n]...)
		if oobn == 0 {
			continue
		}
		msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
		if err != nil || len(msgs) != 1 {
			return nil, "", fmt.Errorf("receive idmapped mount: bad control message")
		}
		fds, err := unix.ParseUnixRights(&msgs[0])
		if err != nil || len(fds) != 1 {
			return nil, "", fmt.Errorf("receive idmapped mount: want one file descriptor")
		}
		s := trimSpace(name)
		return os.NewFile(uintptr(fds[0]), s), s, nil
	}
}

func trimSpace(b []byte) string {
	for len(b) > 0 && (b[0] == '\n' || b[0] == ' ' || b[0] == '\t' || b[0] == '\r') {
		b = b[1:]
	}
	return string(b)
}
