package storage

import (
	"fmt"
	"io/fs"
	"path/filepath"
	"syscall"

	"github.com/berth-project/berth/internal/snapshot"
)

// DiskUsage measures the tree at dir: the disk blocks and inodes it holds,
// counting each hard-linked inode once.
func DiskUsage(dir string) (snapshot.Usage, error) {
	type inode struct{ dev, ino uint64 }
	seen := map[inode]bool{}
	var u snapshot.Usage
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		if !ok {
			return fmt.Errorf("stat %s: no inode information", path)
		}
		in := inode{uint64(st.Dev), st.Ino}
		if seen[in] {
			return nil
		}
		seen[in] = true
		u.Inodes++
		u.Size += st.Blocks * 512
		return nil
	})
	if err != nil {
		return snapshot.Usage{}, fmt.Errorf("disk usage of %s: %w", dir, err)
	}
	return u, nil
}
