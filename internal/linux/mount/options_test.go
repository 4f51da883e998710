package mount

import (
	"reflect"
	"slices"
	"testing"

	"golang.org/x/sys/unix"
)

func TestParseOptions(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []string
		want Options
	}{
		{"none", nil, Options{}},
		{"ro", []string{"ro"}, Options{Flags: unix.MS_RDONLY}},
		{"ro then rw", []string{"ro", "rw"}, Options{}},
		{"rw then ro", []string{"rw", "ro"}, Options{Flags: unix.MS_RDONLY}},
		{"bind", []string{"bind"}, Options{Flags: unix.MS_BIND}},
		{"rbind", []string{"rbind"}, Options{Flags: unix.MS_BIND | unix.MS_REC}},
		{"nosuid nodev noexec", []string{"nosuid", "nodev", "noexec"}, Options{Flags: unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC}},
		{"cleared in order", []string{"nosuid", "noexec", "suid", "exec", "nodev"}, Options{Flags: unix.MS_NODEV}},
		{"dev clears nodev", []string{"nodev", "dev"}, Options{}},
		{"atime", []string{"noatime", "nodiratime", "relatime", "strictatime"}, Options{Flags: unix.MS_NOATIME | unix.MS_NODIRATIME | unix.MS_RELATIME | unix.MS_STRICTATIME}},
		{"atime cleared", []string{"noatime", "atime", "nodiratime", "diratime", "relatime", "norelatime", "strictatime", "nostrictatime"}, Options{}},
		{"sync async", []string{"sync", "dirsync", "async"}, Options{Flags: unix.MS_DIRSYNC}},
		{"mand nomand", []string{"mand", "nomand"}, Options{}},
		{"silent loud", []string{"silent", "loud"}, Options{}},
		{"remount ro bind", []string{"remount", "ro", "bind"}, Options{Flags: unix.MS_REMOUNT | unix.MS_RDONLY | unix.MS_BIND}},
		{"defaults", []string{"defaults"}, Options{}},
		{"propagation in order", []string{"rprivate", "shared", "rslave", "unbindable"}, Options{Propagation: []uintptr{
			unix.MS_PRIVATE | unix.MS_REC, unix.MS_SHARED, unix.MS_SLAVE | unix.MS_REC, unix.MS_UNBINDABLE,
		}}},
		{"all propagation", []string{"private", "slave", "rshared", "runbindable"}, Options{Propagation: []uintptr{
			unix.MS_PRIVATE, unix.MS_SLAVE, unix.MS_SHARED | unix.MS_REC, unix.MS_UNBINDABLE | unix.MS_REC,
		}}},
		{"rro", []string{"rro"}, Options{AttrSet: unix.MOUNT_ATTR_RDONLY}},
		{"rro rnosuid", []string{"rbind", "rro", "rnosuid"}, Options{Flags: unix.MS_BIND | unix.MS_REC, AttrSet: unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NOSUID}},
		{"rro then rrw", []string{"rro", "rrw"}, Options{AttrClr: unix.MOUNT_ATTR_RDONLY}},
		{"rrw then rro", []string{"rrw", "rro"}, Options{AttrSet: unix.MOUNT_ATTR_RDONLY}},
		{"recursive clears", []string{"rsuid", "rdev", "rexec", "rdiratime", "rnorelatime", "ratime", "rnostrictatime"}, Options{
			AttrClr: unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV | unix.MOUNT_ATTR_NOEXEC | unix.MOUNT_ATTR_NODIRATIME |
				unix.MOUNT_ATTR_RELATIME | unix.MOUNT_ATTR_NOATIME | unix.MOUNT_ATTR_STRICTATIME,
		}},
		{"recursive sets", []string{"rnodev", "rnoexec", "rnodiratime", "rrelatime", "rnoatime", "rstrictatime"}, Options{
			AttrSet: unix.MOUNT_ATTR_NODEV | unix.MOUNT_ATTR_NOEXEC | unix.MOUNT_ATTR_NODIRATIME |
				unix.MOUNT_ATTR_RELATIME | unix.MOUNT_ATTR_NOATIME | unix.MOUNT_ATTR_STRICTATIME,
		}},
		{"idmap", []string{"bind", "idmap"}, Options{Flags: unix.MS_BIND, IDMap: true}},
		{"ridmap", []string{"rbind", "ridmap"}, Options{Flags: unix.MS_BIND | unix.MS_REC, IDMap: true, IDMapRecursive: true}},
		{"tmpcopyup", []string{"tmpcopyup"}, Options{}},
		{"data in order", []string{"mode=755", "nosuid", "size=65536k", "uid=0", "lowerdir=/a:/b"}, Options{
			Flags: unix.MS_NOSUID, Data: []string{"mode=755", "size=65536k", "uid=0", "lowerdir=/a:/b"},
		}},
		{"unknown words are data", []string{"newinstance", "ptmxmode=0666", "noxattr", "RO"}, Options{
			Data: []string{"newinstance", "ptmxmode=0666", "noxattr", "RO"},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := ParseOptions(tc.opts)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ParseOptions(%q) = %+v, want %+v", tc.opts, got, tc.want)
			}
		})
	}
}

func TestBind(t *testing.T) {
	for opts, want := range map[string]bool{"bind": true, "rbind": true, "ro": false, "rro": false} {
		if got := ParseOptions([]string{opts}).Bind(); got != want {
			t.Errorf("ParseOptions(%q).Bind() = %v, want %v", opts, got, want)
		}
	}
}

func TestDataString(t *testing.T) {
	for _, tc := range []struct {
		opts []string
		want string
	}{
		{nil, ""},
		{[]string{"ro", "nosuid"}, ""},
		{[]string{"mode=755"}, "mode=755"},
		{[]string{"nosuid", "mode=1777", "noexec", "size=65536k", "rbind"}, "mode=1777,size=65536k"},
	} {
		if got := ParseOptions(tc.opts).DataString(); got != tc.want {
			t.Errorf("ParseOptions(%q).DataString() = %q, want %q", tc.opts, got, tc.want)
		}
	}
}

// Every option KnownOptions reports is given a meaning: none ends up as
// filesystem data.
func TestKnownOptions(t *testing.T) {
	known := KnownOptions()
	for _, o := range known {
		if d := ParseOptions([]string{o}).Data; len(d) != 0 {
			t.Errorf("known option %q is passed as data %q", o, d)
		}
	}
	slices.Sort(known)
	if c := slices.Compact(slices.Clone(known)); len(c) != len(known) {
		t.Errorf("KnownOptions has duplicates: %q", known)
	}
	for _, o := range []string{"ro", "rbind", "rprivate", "rro", "idmap", "ridmap", "tmpcopyup"} {
		if _, ok := slices.BinarySearch(known, o); !ok {
			t.Errorf("KnownOptions lacks %q", o)
		}
	}
}
