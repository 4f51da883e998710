package main

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// fileStat is what `probe stat` prints. Mode holds the permission bits with
// setuid, setgid and sticky, in octal ("1777"); Major and Minor are set for
// device files only, Target for symbolic links only.
type fileStat struct {
	Path   string  `json:"path"`
	Type   string  `json:"type"` // file, dir, symlink, char, block, fifo, socket
	Mode   string  `json:"mode"`
	UID    uint32  `json:"uid"`
	GID    uint32  `json:"gid"`
	Size   int64   `json:"size"`
	Nlink  uint64  `json:"nlink"`
	Major  *uint32 `json:"major,omitempty"`
	Minor  *uint32 `json:"minor,omitempty"`
	Target string  `json:"target,omitempty"`
}

// statPath lstats path; it exits 1 when that fails.
func statPath(path string) *fileStat {
	var st unix.Stat_t
	if err := unix.Lstat(path, &st); err != nil {
		fail(1, "stat %s: %v", path, err)
	}
	fs := &fileStat{
		Path:  path,
		Type:  fileType(st.Mode),
		Mode:  fmt.Sprintf("%04o", st.Mode&0o7777),
		UID:   st.Uid,
		GID:   st.Gid,
		Size:  st.Size,
		Nlink: uint64(st.Nlink),
	}
	switch fs.Type {
	case "char", "block":
		major, minor := unix.Major(st.Rdev), unix.Minor(st.Rdev)
		fs.Major, fs.Minor = &major, &minor
	case "symlink":
		target, err := readlink(path)
		if err != nil {
			fail(1, "stat %s: %v", path, err)
		}
		fs.Target = target
	}
	return fs
}

func fileType(mode uint32) string {
	switch mode & unix.S_IFMT {
	case unix.S_IFREG:
		return "file"
	case unix.S_IFDIR:
		return "dir"
	case unix.S_IFLNK:
		return "symlink"
	case unix.S_IFCHR:
		return "char"
	case unix.S_IFBLK:
		return "block"
	case unix.S_IFIFO:
		return "fifo"
	case unix.S_IFSOCK:
		return "socket"
	}
	return fmt.Sprintf("unknown(%#o)", mode&unix.S_IFMT)
}
