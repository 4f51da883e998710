package initproc

import (
	"fmt"
	"os"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/linux/idmap"
	"github.com/berth-project/berth/internal/linux/mount"
)

// IDMapped reports whether m is an idmapped mount: it has the option
// "idmap" or "ridmap", or id mappings of its own (which imply "idmap", as
// in runc).
func IDMapped(m specs.Mount) bool {
	o := mount.ParseOptions(m.Options)
	return o.IDMap || len(m.UIDMappings) > 0 || len(m.GIDMappings) > 0
}

// receiveIDMapped asks the runtime for the spec's idmapped mounts, made by
// the runtime (which has the privilege) and sent as detached mounts (see
// MsgMounts), and returns them by index in spec.Mounts.
func (ch *channel) receiveIDMapped(spec *specs.Spec) (map[int]*os.File, error) {
	var want []int
	for i, m := range spec.Mounts {
		if IDMapped(m) {
			want = append(want, i)
		}
	}
	if len(want) == 0 {
		return nil, nil
	}
	if err := ch.send(Message{Type: MsgMounts}); err != nil {
		return nil, fmt.Errorf("ask for idmapped mounts: %w", err)
	}
	got := make(map[int]*os.File, len(want))
	for _, i := range want {
		f, name, err := idmap.Receive(ch.f)
		if err != nil {
			closeAll(got)
			return nil, err
		}
		got[i] = f
		if dst := spec.Mounts[i].Destination; name != dst {
			closeAll(got)
			return nil, fmt.Errorf("idmapped mount for %s received as %q", dst, name)
		}
	}
	return got, nil
}

func closeAll(files map[int]*os.File) {
	for _, f := range files {
		f.Close()
	}
}

// attachIDMapped puts the detached idmapped mount mnt on m's destination
// in place of a plain bind, then applies m's flags and attributes.
func (r *rootfs) attachIDMapped(m specs.Mount, mnt *os.File) error {
	defer mnt.Close()
	if !filepath.IsAbs(m.Destination) {
		m.Destination = "/" + m.Destination
	}
	o := mount.ParseOptions(m.Options)
	var st unix.Stat_t
	if err := unix.Fstat(int(mnt.Fd()), &st); err != nil {
		return fmt.Errorf("stat idmapped mount: %w", err)
	}
	var dst *os.File
	var err error
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		dst, err = r.root.MkdirAll(m.Destination, 0o755)
	} else {
		dst, err = r.root.MkFile(m.Destination, 0o644)
	}
	if err != nil {
		return err
	}
	defer dst.Close()
	if err := idmap.Attach(mnt, dst); err != nil {
		return err
	}
	if extra := o.Flags &^ (unix.MS_BIND | unix.MS_REC | unix.MS_REMOUNT); extra != 0 {
		if err := r.remountAt(m.Destination, extra); err != nil {
			return err
		}
	}
	return r.finishMount(m.Destination, o)
}
