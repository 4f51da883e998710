package main

import (
	"slices"
	"testing"

	"golang.org/x/sys/unix"
)

func TestCapNamesMatchKernelNumbers(t *testing.T) {
	for num, name := range map[int]string{
		unix.CAP_CHOWN: "CAP_CHOWN", unix.CAP_KILL: "CAP_KILL", unix.CAP_SETPCAP: "CAP_SETPCAP",
		unix.CAP_NET_BIND_SERVICE: "CAP_NET_BIND_SERVICE", unix.CAP_NET_RAW: "CAP_NET_RAW",
		unix.CAP_SYS_CHROOT: "CAP_SYS_CHROOT", unix.CAP_SYS_ADMIN: "CAP_SYS_ADMIN",
		unix.CAP_SYS_RESOURCE: "CAP_SYS_RESOURCE", unix.CAP_MKNOD: "CAP_MKNOD",
		unix.CAP_AUDIT_WRITE: "CAP_AUDIT_WRITE", unix.CAP_SETFCAP: "CAP_SETFCAP",
		unix.CAP_MAC_ADMIN: "CAP_MAC_ADMIN", unix.CAP_AUDIT_READ: "CAP_AUDIT_READ",
		unix.CAP_PERFMON: "CAP_PERFMON", unix.CAP_BPF: "CAP_BPF",
		unix.CAP_CHECKPOINT_RESTORE: "CAP_CHECKPOINT_RESTORE",
	} {
		if capNames[num] != name {
			t.Errorf("capNames[%d] = %q, want %q", num, capNames[num], name)
		}
	}
	if len(capNames) != unix.CAP_LAST_CAP+1 {
		t.Errorf("%d names, want %d (CAP_LAST_CAP+1)", len(capNames), unix.CAP_LAST_CAP+1)
	}
	seen := map[string]bool{}
	for _, n := range capNames {
		if seen[n] {
			t.Errorf("%s named twice", n)
		}
		seen[n] = true
	}
}

func TestDecodeCaps(t *testing.T) {
	// Docker's default set.
	set, err := decodeCaps("00000000a80425fb")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
		"CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW",
		"CAP_SYS_CHROOT", "CAP_MKNOD", "CAP_AUDIT_WRITE", "CAP_SETFCAP"}
	if !slices.Equal(set.Names, want) || set.Hex != "00000000a80425fb" {
		t.Errorf("decoded %+v, want %v", set, want)
	}
	if set, _ := decodeCaps("0000060000000001"); !slices.Equal(set.Names, []string{"CAP_CHOWN", "CAP_41", "CAP_42"}) {
		t.Errorf("unknown bits: %v", set.Names)
	}
	if set, _ := decodeCaps("0000000000000000"); set.Names == nil || len(set.Names) != 0 {
		t.Errorf("empty set: %#v, want an empty list (JSON [])", set.Names)
	}
	if _, err := decodeCaps("zz"); err == nil {
		t.Errorf("decodeCaps(zz): no error")
	}
}
