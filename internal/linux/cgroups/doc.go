// Package cgroups is Berth's cgroup layer: it places a container's processes
// in cgroups and applies the OCI resources to them on cgroup v1 (legacy), v2
// (unified) and hybrid hosts.
//
// The controller file formats, the v1 device emulator and the v2 eBPF device
// filter come from github.com/opencontainers/cgroups (the code runc uses);
// this package wraps them so that the rest of Berth only deals with the OCI
// specs.LinuxResources type and a runc-compatible Stats.
//
// A container's cgroup life, as berth-runtime drives it:
//
//	m, err := cgroups.New(spec.Linux.CgroupsPath, id, rootless) // "/berth/<id>" when empty
//	err = m.Apply(pid)                  // create the dirs, move the init process in
//	err = m.Set(spec.Linux.Resources)   // write the limits and the device allow-list
//	state.CgroupPaths = m.Paths()       // saved in state.json
//	...
//	m, err = cgroups.Load(state.CgroupPaths, rootless) // in a later command
//	err = m.Freeze()                    // pause; m.Thaw() to resume
//	st, err := m.Stats()                // "events --stats"
//	err = m.Destroy()                   // delete: remove every dir
//
// Paths: an absolute cgroupsPath is used as is (below the hierarchy roots); a
// relative one is placed under "/berth"; a path that climbs out of its root
// with ".." is rejected. On a hybrid host the v1 controllers are used and the
// process also joins the same path in the cgroup2 tree at
// /sys/fs/cgroup/unified, as runc does ("" key of Paths).
//
// Set follows runc 1.1.5: the OCI device rules are followed by runc's default
// allow-list (null, zero, full, random, urandom, tty, ptmx, pts, tun and mknod
// of any device); kernel memory limits are ignored (with a warning); a setting
// whose controller this host lacks (hugetlb or net_cls on this v1 host, the
// unified map on v1) is an error naming the setting, except rootless: there
// the settings of the cgroups the user could not create or join (all of them
// on a v1 host, which delegates nothing) are skipped, each with a warning
// (see Warnings), unlike runc, which fails. One deliberate
// difference: on v2, cpu shares become cpu.weight by the library's quadratic
// fit (1024 → 100, the v2 default) rather than runc 1.1.5's linear map
// (1024 → 39).
package cgroups
