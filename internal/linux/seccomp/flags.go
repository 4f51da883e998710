package seccomp

import (
	"fmt"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// flagTSync is the spec's name for SECCOMP_FILTER_FLAG_TSYNC (specs-go has
// no constant for it).
const flagTSync specs.LinuxSeccompFlag = "SECCOMP_FILTER_FLAG_TSYNC"

// knownFlags are the spec flags Compile accepts, with their seccomp(2) bits.
var knownFlags = []struct {
	name specs.LinuxSeccompFlag
	bit  uint
}{
	{flagTSync, unix.SECCOMP_FILTER_FLAG_TSYNC},
	{specs.LinuxSeccompFlagLog, unix.SECCOMP_FILTER_FLAG_LOG},
	{specs.LinuxSeccompFlagSpecAllow, unix.SECCOMP_FILTER_FLAG_SPEC_ALLOW},
	{specs.LinuxSeccompFlagWaitKillableRecv, unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV},
}

// resolveFlags turns the spec's flags into seccomp(2) flag bits. notify adds
// NEW_LISTENER (and TSYNC_ESRCH beside TSYNC, which the kernel requires for
// the pair); WAIT_KILLABLE_RECV only means something with a listener and is
// dropped, with a warning, without one. A flag the kernel does not know is an
// error: silently running with less protection than asked is worse.
func resolveFlags(names []specs.LinuxSeccompFlag, notify bool) (uint, []string, error) {
	var flags uint
	var warnings []string
	for _, n := range names {
		bit, ok := flagBit(n)
		if !ok {
			return 0, nil, fmt.Errorf("unknown seccomp flag %q: %w", n, errdefs.ErrInvalidArgument)
		}
		if !flagSupported(bit) {
			return 0, nil, fmt.Errorf("seccomp flag %q is not supported by the kernel: %w", n, errdefs.ErrFailedPrecondition)
		}
		if bit == unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV && !notify {
			warnings = append(warnings, fmt.Sprintf("seccomp: ignoring flag %s: no rule uses %s", n, specs.ActNotify))
			continue
		}
		flags |= bit
	}
	if notify {
		flags |= unix.SECCOMP_FILTER_FLAG_NEW_LISTENER
		if flags&unix.SECCOMP_FILTER_FLAG_TSYNC != 0 {
			flags |= unix.SECCOMP_FILTER_FLAG_TSYNC_ESRCH
		}
	}
	return flags, warnings, nil
}

func flagBit(name specs.LinuxSeccompFlag) (uint, bool) {
	for _, f := range knownFlags {
		if f.name == name {
			return f.bit, true
		}
	}
	return 0, false
}

// flagSupported asks the kernel whether it knows the filter flag: with a
// NULL program, a known flag fails with EFAULT and an unknown one with EINVAL.
// WAIT_KILLABLE_RECV is only valid beside NEW_LISTENER.
func flagSupported(bit uint) bool {
	if bit == unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV {
		bit |= unix.SECCOMP_FILTER_FLAG_NEW_LISTENER
	}
	return seccompCall(unix.SECCOMP_SET_MODE_FILTER, bit, nil) == unix.EFAULT
}
