package main

import (
	"bufio"
	"bytes"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// Files are read with raw syscalls, not the os package: the first os.Open makes
// the Go runtime create its netpoller (an epoll fd and an eventfd), and those
// would then show up in the report's list of open fds as if the runtime under
// test had leaked them.

// readFile returns the contents of path.
func readFile(path string) ([]byte, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	var out []byte
	buf := make([]byte, 8192)
	for {
		n, err := unix.Read(fd, buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "read", Path: path, Err: err}
		}
		if n == 0 {
			return out, nil
		}
		out = append(out, buf[:n]...)
	}
}

// readLines returns the lines of path without their newlines.
func readLines(path string) ([]string, error) {
	data, err := readFile(path)
	if err != nil {
		return nil, err
	}
	lines := []string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines, sc.Err()
}

// readDirNames returns the names in directory path, without "." and "..".
// fd, when not nil, receives the descriptor used while it is open.
func readDirNames(path string, fd *int) ([]string, error) {
	dfd, err := unix.Open(path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(dfd)
	if fd != nil {
		*fd = dfd
	}
	return direntNames(dfd, path, -1)
}

// direntNames reads up to max names (all when max < 0) from the directory fd.
func direntNames(dfd int, path string, max int) ([]string, error) {
	var names []string
	buf := make([]byte, 16384)
	for {
		n, err := unix.Getdents(dfd, buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "getdents", Path: path, Err: err}
		}
		if n <= 0 {
			return names, nil
		}
		_, _, names = unix.ParseDirent(buf[:n], max, names)
		if max >= 0 && len(names) >= max {
			return names[:max], nil
		}
	}
}

// statusFields parses /proc/self/status into a map "CapEff" → "000001ffffffffff".
func statusFields() (map[string]string, error) {
	lines, err := readLines("/proc/self/status")
	if err != nil {
		return nil, err
	}
	m := make(map[string]string, len(lines))
	for _, l := range lines {
		k, v, ok := strings.Cut(l, ":")
		if ok {
			m[k] = strings.TrimSpace(v)
		}
	}
	return m, nil
}
