package engine

import (
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-project/berth/internal/spec"
)

// hostDevices returns the host's device nodes under /dev, as docker's
// HostDevices finds them: what a --privileged container gets (spec's
// RunOptions.Devices). The pseudo-terminals, /dev/shm, /dev/mqueue, the fd
// links and /dev/console are the container's own, as in docker.
func hostDevices() []spec.Device {
	var out []spec.Device
	skip := map[string]bool{"pts": true, "shm": true, "fd": true, "mqueue": true, ".lxc": true, ".lxd-mounts": true, ".udev": true}
	_ = filepath.WalkDir("/dev", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil // a node that went away meanwhile
		}
		if d.IsDir() {
			if p != "/dev" && skip[d.Name()] {
				return fs.SkipDir
			}
			return nil
		}
		if p == "/dev/console" || d.Type()&(fs.ModeDevice|fs.ModeCharDevice) == 0 {
			return nil
		}
		fi, err := os.Stat(p)
		if err != nil {
			return nil
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		if !ok {
			return nil
		}
		typ := "b"
		if fi.Mode()&fs.ModeCharDevice != 0 {
			typ = "c"
		}
		mode := fi.Mode().Perm()
		uid, gid := st.Uid, st.Gid
		out = append(out, spec.Device{LinuxDevice: specs.LinuxDevice{
			Path: p, Type: typ, Major: int64(devMajor(st.Rdev)), Minor: int64(devMinor(st.Rdev)),
			FileMode: &mode, UID: &uid, GID: &gid,
		}})
		return nil
	})
	return out
}

// devMajor and devMinor split a Linux dev_t (glibc's encoding).
func devMajor(dev uint64) uint64 { return (dev>>8)&0xfff | (dev>>32)&^0xfff }
func devMinor(dev uint64) uint64 { return dev&0xff | (dev>>12)&^0xff }
