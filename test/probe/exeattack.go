package main

import (
	"os"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

// exeAttackResult is what `probe exe-attack` reports.
type exeAttackResult struct {
	// Captured: runtime binaries (by the target of /proc/<pid>/exe) the
	// probe got a handle on while they ran in its namespaces.
	Captured []string `json:"captured"`
	// Writable: handles that could be reopened for writing once their
	// process was gone. Must stay empty.
	Writable []string `json:"writable"`
	// Errors of the reopen attempts ("EROFS", "ETXTBSY", …).
	Errors []string `json:"errors"`
}

// exeAttack plays the CVE-2019-5736 attack for SECONDS (or until STOPFILE
// exists) without ever writing:
// it watches /proc for processes whose exe is the file with inode INODE (the
// runtime's binary, joining the container for `exec`), takes an O_PATH
// handle on /proc/<pid>/exe, and once that process has exited tries to
// reopen the handle for writing. A successful open is closed at once and
// reported; nothing is written.
func exeAttack(secs, inode, stopFile string) exeAttackResult {
	n, err := strconv.Atoi(secs)
	if err != nil {
		fail(2, "exe-attack: bad seconds %q", secs)
	}
	ino, err := strconv.ParseUint(inode, 10, 64)
	if err != nil {
		fail(2, "exe-attack: bad inode %q", inode)
	}
	res := exeAttackResult{Captured: []string{}, Writable: []string{}, Errors: []string{}}
	type handle struct {
		pid    int
		fd     int
		target string
	}
	var handles []handle
	seen := map[int]bool{}
	self := os.Getpid()
	deadline := time.Now().Add(time.Duration(n) * time.Second)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(stopFile); err == nil {
			break
		}
		entries, _ := os.ReadDir("/proc")
		for _, e := range entries {
			pid, err := strconv.Atoi(e.Name())
			if err != nil || pid == self || seen[pid] {
				continue
			}
			exe := "/proc/" + e.Name() + "/exe"
			var st unix.Stat_t
			if unix.Stat(exe, &st) != nil || st.Ino != ino {
				continue
			}
			target, _ := os.Readlink(exe)
			fd, err := unix.Open(exe, unix.O_PATH|unix.O_CLOEXEC, 0)
			if err != nil {
				continue
			}
			seen[pid] = true
			handles = append(handles, handle{pid, fd, target})
			res.Captured = append(res.Captured, target)
		}
		time.Sleep(time.Millisecond)
	}
	for _, h := range handles {
		for i := 0; i < 2000 && unix.Kill(h.pid, 0) == nil; i++ {
			time.Sleep(time.Millisecond)
		}
		// ETXTBSY lasts while anything still executes the file (a runtime
		// process being torn down): wait for a final answer.
		fd, err := unix.Open("/proc/self/fd/"+strconv.Itoa(h.fd), unix.O_WRONLY|unix.O_CLOEXEC, 0)
		for i := 0; i < 300 && err == unix.ETXTBSY; i++ {
			time.Sleep(10 * time.Millisecond)
			fd, err = unix.Open("/proc/self/fd/"+strconv.Itoa(h.fd), unix.O_WRONLY|unix.O_CLOEXEC, 0)
		}
		if err == nil {
			unix.Close(fd)
			res.Writable = append(res.Writable, h.target)
			continue
		}
		res.Errors = append(res.Errors, unix.ErrnoName(err.(unix.Errno)))
	}
	return res
}
