// Package mount turns OCI mount options into mount(2) flags, data and
// propagation, and performs the mounts of a container's rootfs.
//
// Parsing is pure (ParseOptions); the mount calls take an already resolved
// target (an O_PATH handle from pathrs) so that no path is re-resolved
// between the check and the mount.
package mount

import (
	"strings"

	"golang.org/x/sys/unix"
)

// Options is the parsed form of an OCI mount's options.
type Options struct {
	Flags       uintptr   // MS_* flags to set
	Propagation []uintptr // MS_SHARED/MS_SLAVE/MS_PRIVATE/MS_UNBINDABLE (|MS_REC), applied after the mount
	Data        []string  // filesystem-specific options, joined with ","
	// Recursive attributes for mount_setattr(2) (the "r" options: rro, rnosuid, …).
	AttrSet, AttrClr uint64
	// IDMap asks for an idmapped mount (idmap, ridmap).
	IDMap, IDMapRecursive bool
}

// Bind reports whether the options ask for a bind mount.
func (o Options) Bind() bool { return o.Flags&unix.MS_BIND != 0 }

// DataString returns the filesystem data for mount(2).
func (o Options) DataString() string { return strings.Join(o.Data, ",") }

type flagOpt struct {
	clear bool
	flag  uintptr
}

var flagOpts = map[string]flagOpt{
	"async":         {true, unix.MS_SYNCHRONOUS},
	"atime":         {true, unix.MS_NOATIME},
	"bind":          {false, unix.MS_BIND},
	"defaults":      {false, 0},
	"dev":           {true, unix.MS_NODEV},
	"diratime":      {true, unix.MS_NODIRATIME},
	"dirsync":       {false, unix.MS_DIRSYNC},
	"exec":          {true, unix.MS_NOEXEC},
	"mand":          {false, unix.MS_MANDLOCK},
	"noatime":       {false, unix.MS_NOATIME},
	"nodev":         {false, unix.MS_NODEV},
	"nodiratime":    {false, unix.MS_NODIRATIME},
	"noexec":        {false, unix.MS_NOEXEC},
	"nomand":        {true, unix.MS_MANDLOCK},
	"norelatime":    {true, unix.MS_RELATIME},
	"nostrictatime": {true, unix.MS_STRICTATIME},
	"nosuid":        {false, unix.MS_NOSUID},
	"rbind":         {false, unix.MS_BIND | unix.MS_REC},
	"relatime":      {false, unix.MS_RELATIME},
	"remount":       {false, unix.MS_REMOUNT},
	"ro":            {false, unix.MS_RDONLY},
	"rw":            {true, unix.MS_RDONLY},
	"silent":        {false, unix.MS_SILENT},
	"loud":          {true, unix.MS_SILENT},
	"strictatime":   {false, unix.MS_STRICTATIME},
	"suid":          {true, unix.MS_NOSUID},
	"sync":          {false, unix.MS_SYNCHRONOUS},
}

var propagationOpts = map[string]uintptr{
	"private":     unix.MS_PRIVATE,
	"shared":      unix.MS_SHARED,
	"slave":       unix.MS_SLAVE,
	"unbindable":  unix.MS_UNBINDABLE,
	"rprivate":    unix.MS_PRIVATE | unix.MS_REC,
	"rshared":     unix.MS_SHARED | unix.MS_REC,
	"rslave":      unix.MS_SLAVE | unix.MS_REC,
	"runbindable": unix.MS_UNBINDABLE | unix.MS_REC,
}

type attrOpt struct {
	clear bool
	attr  uint64
}

var recAttrOpts = map[string]attrOpt{
	"rro":            {false, unix.MOUNT_ATTR_RDONLY},
	"rrw":            {true, unix.MOUNT_ATTR_RDONLY},
	"rnosuid":        {false, unix.MOUNT_ATTR_NOSUID},
	"rsuid":          {true, unix.MOUNT_ATTR_NOSUID},
	"rnodev":         {false, unix.MOUNT_ATTR_NODEV},
	"rdev":           {true, unix.MOUNT_ATTR_NODEV},
	"rnoexec":        {false, unix.MOUNT_ATTR_NOEXEC},
	"rexec":          {true, unix.MOUNT_ATTR_NOEXEC},
	"rnodiratime":    {false, unix.MOUNT_ATTR_NODIRATIME},
	"rdiratime":      {true, unix.MOUNT_ATTR_NODIRATIME},
	"rrelatime":      {false, unix.MOUNT_ATTR_RELATIME},
	"rnorelatime":    {true, unix.MOUNT_ATTR_RELATIME},
	"rnoatime":       {false, unix.MOUNT_ATTR_NOATIME},
	"ratime":         {true, unix.MOUNT_ATTR_NOATIME},
	"rstrictatime":   {false, unix.MOUNT_ATTR_STRICTATIME},
	"rnostrictatime": {true, unix.MOUNT_ATTR_STRICTATIME},
}

// ParseOptions parses OCI mount options. Options it does not know are passed
// to the filesystem as data, as mount(8) does.
func ParseOptions(opts []string) Options {
	var o Options
	for _, opt := range opts {
		if f, ok := flagOpts[opt]; ok {
			if f.clear {
				o.Flags &^= f.flag
			} else {
				o.Flags |= f.flag
			}
			continue
		}
		if p, ok := propagationOpts[opt]; ok {
			o.Propagation = append(o.Propagation, p)
			continue
		}
		if a, ok := recAttrOpts[opt]; ok {
			if a.clear {
				o.AttrClr |= a.attr
				o.AttrSet &^= a.attr
			} else {
				o.AttrSet |= a.attr
				o.AttrClr &^= a.attr
			}
			continue
		}
		switch opt {
		case "idmap":
			o.IDMap = true
			continue
		case "ridmap":
			o.IDMap, o.IDMapRecursive = true, true
			continue
		case "tmpcopyup":
			continue // runc extension: accepted, the tmpfs starts empty
		}
		o.Data = append(o.Data, opt)
	}
	return o
}

// KnownOptions lists every option name ParseOptions gives a meaning to (for
// `berth-runtime features`).
func KnownOptions() []string {
	var out []string
	for k := range flagOpts {
		out = append(out, k)
	}
	for k := range propagationOpts {
		out = append(out, k)
	}
	for k := range recAttrOpts {
		out = append(out, k)
	}
	return append(out, "idmap", "ridmap", "tmpcopyup")
}
