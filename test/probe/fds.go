package main

import (
	"fmt"
	"sort"
	"strconv"

	"golang.org/x/sys/unix"
)

// openFD is one open file descriptor and what /proc/self/fd/N points to.
type openFD struct {
	FD     int    `json:"fd"`
	Target string `json:"target"`
}

// listFDs returns the open fds of the process, without the one used to list
// them, in ascending order.
func listFDs() ([]openFD, error) {
	listing := -1
	names, err := readDirNames("/proc/self/fd", &listing)
	if err != nil {
		return nil, err
	}
	fds := []openFD{}
	for _, name := range names {
		n, err := strconv.Atoi(name)
		if err != nil {
			return nil, fmt.Errorf("/proc/self/fd entry %q: %w", name, err)
		}
		if n == listing {
			continue
		}
		target, err := readlink("/proc/self/fd/" + name)
		if err != nil {
			target = "error: " + err.Error()
		}
		fds = append(fds, openFD{FD: n, Target: target})
	}
	sort.Slice(fds, func(i, j int) bool { return fds[i].FD < fds[j].FD })
	return fds, nil
}

// readlink returns the target of the symbolic link path.
func readlink(path string) (string, error) {
	buf := make([]byte, 4096)
	n, err := unix.Readlink(path, buf)
	if err != nil {
		return "", fmt.Errorf("readlink %s: %w", path, err)
	}
	return string(buf[:n]), nil
}
