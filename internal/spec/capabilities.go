package spec

import (
	"fmt"
	"slices"
	"strings"

	"github.com/berth-project/berth/internal/errdefs"
)

// DockerCapabilities are the capabilities docker grants a container by
// default (moby daemon/pkg/oci/caps/defaults.go), in docker's order.
var DockerCapabilities = []string{
	"CAP_CHOWN",
	"CAP_DAC_OVERRIDE",
	"CAP_FSETID",
	"CAP_FOWNER",
	"CAP_MKNOD",
	"CAP_NET_RAW",
	"CAP_SETGID",
	"CAP_SETUID",
	"CAP_SETFCAP",
	"CAP_SETPCAP",
	"CAP_NET_BIND_SERVICE",
	"CAP_SYS_CHROOT",
	"CAP_KILL",
	"CAP_AUDIT_WRITE",
}

// AllCapabilities are the capabilities Linux defines (up to 6.x), in number
// order: what --privileged and --cap-add ALL grant. (internal/linux/caps has
// the same table with the numbers; this package may not import it.)
var AllCapabilities = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
	"CAP_FSETID", "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP",
	"CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
	"CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
	"CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
	"CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
	"CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD",
	"CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP",
	"CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
	"CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
	"CAP_CHECKPOINT_RESTORE",
}

// normalizeCaps upper-cases names and adds the CAP_ prefix, keeping "ALL",
// as docker's NormalizeLegacyCapabilities; an unknown name is an error.
func normalizeCaps(flag string, list []string) ([]string, error) {
	out := make([]string, 0, len(list))
	for _, c := range list {
		n := strings.ToUpper(strings.TrimSpace(c))
		if n != "ALL" && !strings.HasPrefix(n, "CAP_") {
			n = "CAP_" + n
		}
		if n != "ALL" && !slices.Contains(AllCapabilities, n) {
			return nil, fmt.Errorf("%s: unknown capability %q: %w", flag, c, errdefs.ErrInvalidArgument)
		}
		out = append(out, n)
	}
	return out, nil
}

// capabilities is docker's TweakCapabilities: privileged gets every
// capability the host can give; --cap-add ALL each of those but the dropped; --cap-drop ALL only
// the added; otherwise the defaults minus the dropped plus the added. Unlike
// docker, a name is listed once.
func capabilities(opts RunOptions) ([]string, error) {
	everything := AllCapabilities
	if opts.HostCapabilities != nil {
		everything = opts.HostCapabilities
	}
	if opts.Privileged {
		return slices.Clone(everything), nil
	}
	drop, err := normalizeCaps("--cap-drop", opts.CapDrop)
	if err != nil {
		return nil, err
	}
	add, err := normalizeCaps("--cap-add", opts.CapAdd)
	if err != nil {
		return nil, err
	}
	var out []string
	switch {
	case slices.Contains(add, "ALL"):
		for _, c := range everything {
			if !slices.Contains(drop, c) {
				out = append(out, c)
			}
		}
	case slices.Contains(drop, "ALL"):
		out = appendNew(out, add...)
	default:
		for _, c := range DockerCapabilities {
			if !slices.Contains(drop, c) {
				out = append(out, c)
			}
		}
		out = appendNew(out, add...)
	}
	if out == nil {
		out = []string{}
	}
	return out, nil
}

// appendNew appends the elements of add not already in list.
func appendNew[T comparable](list []T, add ...T) []T {
	for _, a := range add {
		if !slices.Contains(list, a) {
			list = append(list, a)
		}
	}
	return list
}
