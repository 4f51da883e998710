package runtime

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/linux/idmap"
	"github.com/berth-project/berth/internal/linux/mount"
	"github.com/berth-project/berth/internal/runtime/initproc"
)

// idmappedMount is a detached idmapped mount made for the init, which
// moves it onto dest (see initproc.MsgMounts).
type idmappedMount struct {
	dest string
	mnt  *os.File
}

// validateIDMapped checks the spec's idmapped mounts: bind mounts only, in
// a container with a user namespace and a mount namespace of its own, with
// uid and gid mappings given together.
func validateIDMapped(s *specs.Spec) error {
	for _, m := range s.Mounts {
		if !initproc.IDMapped(m) {
			continue
		}
		o := mount.ParseOptions(m.Options)
		switch {
		case !o.Bind() && m.Type != "bind":
			return invalid("mount %s on %s: idmapped mounts are supported for bind mounts only (type %q)", m.Source, m.Destination, m.Type)
		case !hasNamespace(s, specs.UserNamespace):
			return invalid("mount %s on %s: an idmapped mount needs a user namespace", m.Source, m.Destination)
		case !hasNamespace(s, specs.MountNamespace):
			return invalid("mount %s on %s: an idmapped mount needs a mount namespace", m.Source, m.Destination)
		case (len(m.UIDMappings) == 0) != (len(m.GIDMappings) == 0):
			return invalid("mount %s on %s: uidMappings and gidMappings must be given together", m.Source, m.Destination)
		}
	}
	return nil
}

// makeIDMapped makes the spec's idmapped mounts, in spec order, for the
// container whose init is pid (its user namespace exists and is mapped):
// each a detached copy of the source idmapped with the container's user
// namespace, or with a user namespace made for the mount's own mappings.
func makeIDMapped(spec *specs.Spec, bundle string, pid int) (_ []idmappedMount, err error) {
	var out []idmappedMount
	defer func() {
		if err != nil {
			closeIDMapped(out)
		}
	}()
	var userns *os.File
	defer func() {
		if userns != nil {
			userns.Close()
		}
	}()
	for _, m := range spec.Mounts {
		if !initproc.IDMapped(m) {
			continue
		}
		if userns == nil && len(m.UIDMappings) == 0 {
			path := "/proc/" + strconv.Itoa(pid) + "/ns/user"
			if userns, err = os.Open(path); err != nil {
				return nil, fmt.Errorf("open the container's user namespace %s: %w", path, err)
			}
		}
		mnt, err := idmapOne(m, bundle, userns)
		if err != nil {
			return nil, fmt.Errorf("mount %s on %s: %w", m.Source, m.Destination, err)
		}
		out = append(out, idmappedMount{dest: m.Destination, mnt: mnt})
	}
	return out, nil
}

func idmapOne(m specs.Mount, bundle string, containerNS *os.File) (*os.File, error) {
	o := mount.ParseOptions(m.Options)
	src := m.Source
	if !filepath.IsAbs(src) {
		src = filepath.Join(bundle, src) // as the init resolves it (its cwd)
	}
	mnt, err := idmap.Clone(src, o.Flags&unix.MS_REC != 0 || o.IDMapRecursive)
	if err != nil {
		return nil, err
	}
	userns := containerNS
	if len(m.UIDMappings) > 0 {
		if userns, err = idmap.NewUserns(sysIDMap(m.UIDMappings), sysIDMap(m.GIDMappings)); err != nil {
			mnt.Close()
			return nil, err
		}
		defer userns.Close()
	}
	if err := idmap.SetUserns(mnt, userns, o.IDMapRecursive); err != nil {
		mnt.Close()
		return nil, err
	}
	return mnt, nil
}

func sysIDMap(maps []specs.LinuxIDMapping) []syscall.SysProcIDMap {
	out := make([]syscall.SysProcIDMap, 0, len(maps))
	for _, m := range maps {
		out = append(out, syscall.SysProcIDMap{ContainerID: int(m.ContainerID), HostID: int(m.HostID), Size: int(m.Size)})
	}
	return out
}

func closeIDMapped(mounts []idmappedMount) {
	for _, m := range mounts {
		m.mnt.Close()
	}
}

// sendIDMapped answers the init's MsgMounts with the idmapped mounts, then
// closes our copies.
func (sp *spawn) sendIDMapped() error {
	defer func() {
		closeIDMapped(sp.idmapped)
		sp.idmapped = nil
	}()
	if len(sp.idmapped) == 0 {
		return fmt.Errorf("container init asked for idmapped mounts, but none were made")
	}
	for _, m := range sp.idmapped {
		if err := idmap.Send(sp.parentSync, m.mnt, m.dest); err != nil {
			return fmt.Errorf("container init: %w", err)
		}
	}
	return nil
}
