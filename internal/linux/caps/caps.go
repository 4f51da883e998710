// Package caps names Linux capabilities and applies the five capability sets
// of an OCI process to the calling thread (which the caller keeps locked until
// execve).
package caps

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/errdefs"
)

// names maps "CAP_X" to its number, for every capability this kernel
// generation defines.
var names = map[string]int{
	"CAP_CHOWN": 0, "CAP_DAC_OVERRIDE": 1, "CAP_DAC_READ_SEARCH": 2, "CAP_FOWNER": 3,
	"CAP_FSETID": 4, "CAP_KILL": 5, "CAP_SETGID": 6, "CAP_SETUID": 7, "CAP_SETPCAP": 8,
	"CAP_LINUX_IMMUTABLE": 9, "CAP_NET_BIND_SERVICE": 10, "CAP_NET_BROADCAST": 11,
	"CAP_NET_ADMIN": 12, "CAP_NET_RAW": 13, "CAP_IPC_LOCK": 14, "CAP_IPC_OWNER": 15,
	"CAP_SYS_MODULE": 16, "CAP_SYS_RAWIO": 17, "CAP_SYS_CHROOT": 18, "CAP_SYS_PTRACE": 19,
	"CAP_SYS_PACCT": 20, "CAP_SYS_ADMIN": 21, "CAP_SYS_BOOT": 22, "CAP_SYS_NICE": 23,
	"CAP_SYS_RESOURCE": 24, "CAP_SYS_TIME": 25, "CAP_SYS_TTY_CONFIG": 26, "CAP_MKNOD": 27,
	"CAP_LEASE": 28, "CAP_AUDIT_WRITE": 29, "CAP_AUDIT_CONTROL": 30, "CAP_SETFCAP": 31,
	"CAP_MAC_OVERRIDE": 32, "CAP_MAC_ADMIN": 33, "CAP_SYSLOG": 34, "CAP_WAKE_ALARM": 35,
	"CAP_BLOCK_SUSPEND": 36, "CAP_AUDIT_READ": 37, "CAP_PERFMON": 38, "CAP_BPF": 39,
	"CAP_CHECKPOINT_RESTORE": 40,
}

// Names returns every known capability name, in number order.
func Names() []string {
	out := make([]string, 0, len(names))
	for n := range names {
		out = append(out, n)
	}
	sort.Slice(out, func(i, j int) bool { return names[out[i]] < names[out[j]] })
	return out
}

// LastCap is the highest capability number the running kernel knows
// (/proc/sys/kernel/cap_last_cap; 40 when it cannot be read).
func LastCap() int {
	b, err := os.ReadFile("/proc/sys/kernel/cap_last_cap")
	if err != nil {
		return 40
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 40
	}
	return n
}

// Parse turns capability names into numbers; an unknown name is an
// InvalidArgument error naming it.
func Parse(list []string) ([]int, error) {
	out := make([]int, 0, len(list))
	for _, n := range list {
		c, ok := names[strings.ToUpper(n)]
		if !ok {
			return nil, fmt.Errorf("unknown capability %q: %w", n, errdefs.ErrInvalidArgument)
		}
		out = append(out, c)
	}
	return out, nil
}

// Validate checks every name in every set of c.
func Validate(c *specs.LinuxCapabilities) error {
	if c == nil {
		return nil
	}
	for _, set := range [][]string{c.Bounding, c.Effective, c.Inheritable, c.Permitted, c.Ambient} {
		if _, err := Parse(set); err != nil {
			return err
		}
	}
	return nil
}

// Sets are the five capability sets as bit masks.
type Sets struct {
	Bounding, Effective, Inheritable, Permitted, Ambient uint64
}

func mask(list []string) uint64 {
	var m uint64
	nums, _ := Parse(list)
	for _, c := range nums {
		m |= 1 << uint(c)
	}
	return m
}

// FromSpec converts c (already validated) to masks; a nil c means no capabilities.
func FromSpec(c *specs.LinuxCapabilities) Sets {
	if c == nil {
		return Sets{}
	}
	return Sets{
		Bounding: mask(c.Bounding), Effective: mask(c.Effective), Inheritable: mask(c.Inheritable),
		Permitted: mask(c.Permitted), Ambient: mask(c.Ambient),
	}
}

// DropBounding removes from the calling thread's bounding set every
// capability not in s.Bounding. It needs CAP_SETPCAP, so it runs before the
// thread changes user.
func DropBounding(s Sets) error {
	last := LastCap()
	for c := 0; c <= last; c++ {
		if s.Bounding&(1<<uint(c)) != 0 {
			continue
		}
		if err := unix.Prctl(unix.PR_CAPBSET_DROP, uintptr(c), 0, 0, 0); err != nil {
			if err == unix.EINVAL {
				continue
			}
			return fmt.Errorf("drop capability %d from the bounding set: %w", c, err)
		}
	}
	return nil
}

// Apply sets the permitted, effective and inheritable sets of the calling
// thread, then raises the ambient ones (after clearing any it had). The
// kernel keeps an ambient capability only if it is also permitted and
// inheritable; others are left out, as runc does (its default spec lists
// ambient capabilities without inheritable ones).
func Apply(s Sets) error {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	data := [2]unix.CapUserData{
		{Effective: uint32(s.Effective), Permitted: uint32(s.Permitted), Inheritable: uint32(s.Inheritable)},
		{Effective: uint32(s.Effective >> 32), Permitted: uint32(s.Permitted >> 32), Inheritable: uint32(s.Inheritable >> 32)},
	}
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		return fmt.Errorf("set capabilities: %w", err)
	}
	if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); err != nil {
		return fmt.Errorf("clear ambient capabilities: %w", err)
	}
	for c := 0; c < 64; c++ {
		if s.Ambient&s.Permitted&s.Inheritable&(1<<uint(c)) == 0 {
			continue
		}
		if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_RAISE, uintptr(c), 0, 0); err != nil {
			return fmt.Errorf("raise ambient capability %d: %w", c, err)
		}
	}
	return nil
}
