package ns

import (
	"os"
	"strings"
)

// InUserNamespace reports whether the process runs in a user namespace
// other than the initial one: its uid map is not the identity map of every
// id ("0 0 4294967295"). Inside one, the process may be uid 0 and yet lack
// the host's privileges (cgroups, device nodes): a rootless engine's
// runtime, as under Podman.
func InUserNamespace() bool {
	b, err := os.ReadFile("/proc/self/uid_map")
	if err != nil {
		return false // no user namespaces in this kernel
	}
	f := strings.Fields(string(b))
	return !(len(f) == 3 && f[0] == "0" && f[1] == "0" && f[2] == "4294967295")
}
