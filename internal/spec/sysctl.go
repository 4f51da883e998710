package spec

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/berth-project/berth/internal/errdefs"
)

// ipcSysctls are the IPC namespace's sysctls that docker accepts (docker
// CLI opts.ValidateSysctl); fs.mqueue.* belong to it too.
var ipcSysctls = map[string]bool{
	"kernel.msgmax": true, "kernel.msgmnb": true, "kernel.msgmni": true,
	"kernel.sem": true, "kernel.shmall": true, "kernel.shmmax": true,
	"kernel.shmmni": true, "kernel.shm_rmid_forced": true,
}

// sysctls validates --sysctl as docker and runc do — only namespaced
// sysctls, net.* not in the host's network namespace, the IPC ones not in
// the host's IPC namespace — and lays them over docker's defaults for a new
// network namespace: net.ipv4.ip_unprivileged_port_start=0 (any port
// without CAP_NET_BIND_SERVICE) and, outside a user namespace,
// net.ipv4.ping_group_range="0 2147483647" (ping without CAP_NET_RAW).
func sysctls(opts RunOptions, ns namespaceModes) (map[string]string, error) {
	out := map[string]string{}
	if ns.net.private() {
		out["net.ipv4.ip_unprivileged_port_start"] = "0"
		if !ns.user {
			out["net.ipv4.ping_group_range"] = "0 2147483647"
		}
	}
	for _, k := range sortedKeys(opts.Sysctls) {
		if strings.ContainsAny(k, "/ \t\n\x00") || strings.Contains(k, "..") || strings.HasSuffix(k, ".") {
			return nil, fmt.Errorf("sysctl %q: not a sysctl name: %w", k, errdefs.ErrInvalidArgument)
		}
		switch {
		case strings.HasPrefix(k, "net."):
			if ns.net.host {
				return nil, fmt.Errorf("sysctl %q: not allowed in the host's network namespace: %w", k, errdefs.ErrInvalidArgument)
			}
		case ipcSysctls[k] || strings.HasPrefix(k, "fs.mqueue."):
			if ns.ipc.host {
				return nil, fmt.Errorf("sysctl %q: not allowed in the host's IPC namespace: %w", k, errdefs.ErrInvalidArgument)
			}
		default:
			return nil, fmt.Errorf("sysctl %q: not a namespaced sysctl (want net.*, fs.mqueue.*, kernel.msg{max,mnb,mni}, kernel.sem, kernel.shm{all,max,mni}, kernel.shm_rmid_forced): %w", k, errdefs.ErrInvalidArgument)
		}
		out[k] = opts.Sysctls[k]
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// sortedKeys returns m's keys in order, so errors are deterministic.
func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
