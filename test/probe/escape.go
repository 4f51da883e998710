package main

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// fileID names a directory by device and inode.
type fileID struct {
	Dev uint64 `json:"dev"`
	Ino uint64 `json:"ino"`
}

// escapeAttempt is one way of trying to leave the root. Escaped means a walk
// up through ".." ended at a top directory (its own parent) that is not the
// process's "/"; Top then lists up to 64 names found there, as evidence.
type escapeAttempt struct {
	Via     string   `json:"via"`              // "fd 5", "chdir /proc/self/fd/5", "cwd", "/"
	Target  string   `json:"target,omitempty"` // readlink /proc/self/fd/N
	Getcwd  string   `json:"getcwd,omitempty"` // getcwd(2) after a chdir: "(unreachable)/…" outside the root
	Escaped bool     `json:"escaped"`
	Top     []string `json:"top,omitempty"`
	Error   string   `json:"error,omitempty"`
}

// escapeReport is what `probe cwd-escape` prints.
type escapeReport struct {
	Root     fileID          `json:"root"`
	Escaped  bool            `json:"escaped"`
	Attempts []escapeAttempt `json:"attempts"`
}

// cwdEscape tries every inherited directory fd from 3 to 20, directly and by
// chdir to /proc/self/fd/N, and walks ".." from the working directory and
// from "/". Only fds open on entry are tried, not the probe's own.
func cwdEscape() *escapeReport {
	var dirFDs []int
	for n := 3; n <= 20; n++ {
		var st unix.Stat_t
		if unix.Fstat(n, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFDIR {
			dirFDs = append(dirFDs, n)
		}
	}
	var rootSt unix.Stat_t
	if err := unix.Stat("/", &rootSt); err != nil {
		fail(1, "stat /: %v", err)
	}
	r := &escapeReport{Root: fileID{uint64(rootSt.Dev), rootSt.Ino}, Attempts: []escapeAttempt{}}
	saved, err := unix.Open(".", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		fail(1, "open working directory: %v", err)
	}
	defer unix.Close(saved)

	for _, n := range dirFDs {
		target, _ := readlink(fmt.Sprintf("/proc/self/fd/%d", n))
		a := escapeAttempt{Via: fmt.Sprintf("fd %d", n), Target: target}
		walkFrom(&a, r.Root, n, ".")
		r.add(a)

		path := fmt.Sprintf("/proc/self/fd/%d", n)
		a = escapeAttempt{Via: "chdir " + path, Target: target}
		if err := unix.Chdir(path); err != nil {
			a.Error = fmt.Sprintf("chdir %s: %v", path, err)
		} else {
			a.Getcwd = getcwd()
			walkFrom(&a, r.Root, unix.AT_FDCWD, ".")
			if err := unix.Fchdir(saved); err != nil {
				fail(1, "return to working directory: %v", err)
			}
		}
		r.add(a)
	}
	a := escapeAttempt{Via: "cwd", Getcwd: getcwd()}
	walkFrom(&a, r.Root, unix.AT_FDCWD, ".")
	r.add(a)
	a = escapeAttempt{Via: "/"}
	walkFrom(&a, r.Root, unix.AT_FDCWD, "/")
	r.add(a)
	return r
}

func (r *escapeReport) add(a escapeAttempt) {
	r.Attempts = append(r.Attempts, a)
	r.Escaped = r.Escaped || a.Escaped
}

// walkFrom opens path relative to dirfd and follows ".." until it reaches
// root (no escape) or a directory that is its own parent (an escape).
func walkFrom(a *escapeAttempt, root fileID, dirfd int, path string) {
	cur, err := unix.Openat(dirfd, path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		a.Error = fmt.Sprintf("open %s: %v", path, err)
		return
	}
	defer func() { unix.Close(cur) }()
	id, err := fdID(cur)
	for depth := 0; err == nil && depth < 4096; depth++ {
		if id == root {
			return
		}
		var parent int
		parent, err = unix.Openat(cur, "..", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			break
		}
		unix.Close(cur)
		cur = parent
		var pid fileID
		if pid, err = fdID(cur); err != nil {
			break
		}
		if pid == id {
			a.Escaped = true
			a.Top, err = direntNames(cur, "..", 64)
			break
		}
		id = pid
	}
	if err != nil {
		a.Error = fmt.Sprintf("walk up from %s: %v", path, err)
	}
}

func fdID(fd int) (fileID, error) {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return fileID{}, err
	}
	return fileID{uint64(st.Dev), st.Ino}, nil
}

// getcwd returns what getcwd(2) says, including an "(unreachable)" prefix.
func getcwd() string {
	buf := make([]byte, unix.PathMax)
	n, err := unix.Getcwd(buf)
	if err != nil {
		return "error: " + err.Error()
	}
	if n > 0 && buf[n-1] == 0 {
		n--
	}
	return string(buf[:n])
}
