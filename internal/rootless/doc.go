// Package rootless lets the berth engine run as an unprivileged user, as
// Podman does: every berth command of the user runs as root of one shared
// user namespace, in one shared mount namespace, made once and kept alive
// by a small pause process.
//
// # The namespaces
//
// The user namespace maps the user's own uid and gid to 0, and the user's
// ranges in /etc/subuid and /etc/subgid to 1…N (written by Debian's
// newuidmap/newgidmap, package uidmap, which check those files):
//
//	/proc/<pause>/uid_map:   0  1000      1
//	                         1  100000 65536
//
// so a layer file owned by uid 33 in an image is owned by host uid 100032
// on disk, and a container's root is the user. Inside, berth has every
// capability over what the namespace owns: it mounts overlayfs (with the
// userxattr option, Linux 5.11+), binds, tmpfs, and makes network
// namespaces; it cannot touch the host's cgroups or make device nodes, and
// berth-runtime, finding itself in a user namespace, acts as rootless
// (cgroup settings skipped with a warning, devices bound from the host).
//
// Mounts live in the mount namespace: every command, every container and
// every berth-monitor must be in the same one, or a command would not see
// the rootfs another made. Hence the pause process.
//
// # The pause process
//
// The first berth command of a user (Ensure, called before anything else
// when euid != 0) starts `berth __berth-rootless-pause` (PauseArg) with
// the nsenter constructor asked to unshare CLONE_NEWUSER|CLONE_NEWNS; the
// constructor stops on the sync socket until this command has written the
// id maps, becomes the namespace's root, and the Go side of the pause
// process reports ready and then sleeps until SIGTERM. Its pid is in
//
//	$XDG_RUNTIME_DIR/berth/pause.pid    (/tmp/berth-<uid>/ without XDG_RUNTIME_DIR)
//
// guarded by pause.lock there, so that two first commands make one pause
// process. Every command then re-executes itself (/proc/self/exe, same
// arguments and working directory) with the constructor asked to join the
// pause process's user and mount namespaces (_BERTH_NS_JOIN) before the Go
// runtime starts its threads — a multi-threaded process cannot join a user
// namespace. EnvUID (_BERTH_ROOTLESS_UID, the user's host uid) marks the
// re-executed berth, and everything it starts (berth-monitor, the
// monitor's `berth container cleanup`), as rootless; HostUID reads it.
//
// The pause process lives until it is killed (SIGTERM). Containers keep
// their namespaces alive by themselves, but a berth command joins through
// the pause process only: while containers run, kill it and the next
// command makes new, empty namespaces that do not see them. To end it:
//
//	kill $(cat $XDG_RUNTIME_DIR/berth/pause.pid)
//
// # Storage
//
// Rootless defaults (DataDir, RunDir): --root $XDG_DATA_HOME/berth
// (~/.local/share/berth), --runroot $XDG_RUNTIME_DIR/berth; settings and
// registries from $XDG_CONFIG_HOME/berth/ (~/.config/berth/) when present.
// Files under the root belong to the user's subordinate ids: remove them
// from inside (berth rmi, prune), or as the host's root.
//
// Example, in a command's main:
//
//	if len(os.Args) == 2 && os.Args[1] == rootless.PauseArg {
//		rootless.Pause() // never returns
//	}
//	if err := rootless.Ensure(); err != nil { // re-executes on success
//		fail(err)
//	}
//	if uid, ok := rootless.HostUID(); ok {
//		root, runroot = rootless.DataDir(), rootless.RunDir(uid)
//	}
package rootless
