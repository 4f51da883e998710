package main

import (
	"fmt"
	"strconv"
)

// capNames are the Linux capabilities by number (linux/capability.h, up to
// CAP_CHECKPOINT_RESTORE = 40). A set bit without a name here decodes as
// "CAP_<number>".
var capNames = [...]string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
	"CAP_FSETID", "CAP_KILL", "CAP_SETGID", "CAP_SETUID",
	"CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
	"CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
	"CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
	"CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
	"CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD",
	"CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP",
	"CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
	"CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
	"CAP_CHECKPOINT_RESTORE",
}

// capSet is one capability set: the mask as /proc/self/status prints it
// ("00000000a80425fb") and the names of its bits in ascending order.
type capSet struct {
	Hex   string   `json:"hex"`
	Names []string `json:"names"`
}

// capSets are the five capability sets of the process.
type capSets struct {
	Inheritable capSet `json:"inheritable"`
	Permitted   capSet `json:"permitted"`
	Effective   capSet `json:"effective"`
	Bounding    capSet `json:"bounding"`
	Ambient     capSet `json:"ambient"`
}

// decodeCaps returns the set whose mask is hex.
func decodeCaps(hex string) (capSet, error) {
	mask, err := strconv.ParseUint(hex, 16, 64)
	if err != nil {
		return capSet{}, fmt.Errorf("parse capability mask %q: %w", hex, err)
	}
	names := []string{}
	for bit := range 64 {
		if mask&(1<<bit) == 0 {
			continue
		}
		if bit < len(capNames) {
			names = append(names, capNames[bit])
		} else {
			names = append(names, fmt.Sprintf("CAP_%d", bit))
		}
	}
	return capSet{Hex: hex, Names: names}, nil
}

// readCaps decodes the Cap* lines of /proc/self/status.
func readCaps(status map[string]string) (capSets, error) {
	var cs capSets
	for _, f := range []struct {
		key string
		set *capSet
	}{
		{"CapInh", &cs.Inheritable},
		{"CapPrm", &cs.Permitted},
		{"CapEff", &cs.Effective},
		{"CapBnd", &cs.Bounding},
		{"CapAmb", &cs.Ambient},
	} {
		hex, ok := status[f.key]
		if !ok {
			return cs, fmt.Errorf("/proc/self/status has no %s line", f.key)
		}
		set, err := decodeCaps(hex)
		if err != nil {
			return cs, fmt.Errorf("%s: %w", f.key, err)
		}
		*f.set = set
	}
	return cs, nil
}
