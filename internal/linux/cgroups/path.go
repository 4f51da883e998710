package cgroups

import (
	"fmt"
	"strings"

	"github.com/berth-project/berth/internal/errdefs"
)

// defaultParent is the cgroup under which relative and empty cgroupsPaths are
// placed.
const defaultParent = "/berth"

// resolvePath turns an OCI cgroupsPath into the absolute cgroup path (relative
// to the hierarchy roots) used for container id: empty → "/berth/<id>",
// relative "x" → "/berth/x", absolute → cleaned. A path whose ".." climbs above
// its root, or which names the root itself, is an InvalidArgument error; the
// systemd form "slice:prefix:name" is NotImplemented.
func resolvePath(cgroupsPath, id string) (string, error) {
	if strings.Count(cgroupsPath, ":") == 2 {
		return "", fmt.Errorf("cgroupsPath %q: systemd cgroup driver is not supported: %w", cgroupsPath, errdefs.ErrNotImplemented)
	}
	if strings.ContainsRune(cgroupsPath, 0) {
		return "", fmt.Errorf("cgroupsPath %q: contains a NUL byte: %w", cgroupsPath, errdefs.ErrInvalidArgument)
	}
	if cgroupsPath == "" {
		if id == "" || strings.ContainsAny(id, "/\x00") || id == "." || id == ".." {
			return "", fmt.Errorf("container id %q: not usable as a cgroup name: %w", id, errdefs.ErrInvalidArgument)
		}
		return defaultParent + "/" + id, nil
	}
	base := ""
	if !strings.HasPrefix(cgroupsPath, "/") {
		base = defaultParent
	}
	var parts []string
	for _, p := range strings.Split(cgroupsPath, "/") {
		switch p {
		case "", ".":
		case "..":
			if len(parts) == 0 {
				return "", fmt.Errorf("cgroupsPath %q: escapes its root %q: %w", cgroupsPath, base+"/", errdefs.ErrInvalidArgument)
			}
			parts = parts[:len(parts)-1]
		default:
			parts = append(parts, p)
		}
	}
	if len(parts) == 0 {
		return "", fmt.Errorf("cgroupsPath %q: names the root %q, not a cgroup of its own: %w", cgroupsPath, base+"/", errdefs.ErrInvalidArgument)
	}
	return base + "/" + strings.Join(parts, "/"), nil
}
