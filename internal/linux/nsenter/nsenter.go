//go:build cgo

// Package nsenter holds the one piece of C in Berth: a constructor that runs
// in `berth-runtime init` before the Go runtime starts threads, because the
// kernel lets only a single-threaded process join a user or a time
// namespace, and a pid namespace takes effect for children only. The berth
// CLI links it too, to join its rootless user and mount namespaces
// (internal/rootless) and to make them in its pause process.
//
// The runtime asks for it through the environment of the init it spawns:
//
//	_BERTH_NS_JOIN     lines "<CLONE_NEW* in hex> <path>": setns in order
//	_BERTH_NS_UNSHARE  CLONE_NEW* flags in hex: unshare after the joins
//	_BERTH_NS_TIME_OFFSETS  with CLONE_NEWTIME: the clock offsets, written
//	                   before the process enters the new time namespace
//	_BERTH_NS_KEEP_CWD set: after the joins, chdir to the path that was the
//	                   working directory (a mount namespace join moves the
//	                   process to the namespace's root)
//
// After joining a user namespace the process becomes its root. After
// making one (CLONE_NEWUSER in _BERTH_NS_UNSHARE: an unprivileged runtime
// whose maps need newuidmap/newgidmap), it writes {"type":"idmap"} on the
// sync fd, waits for the line {"type":"idmap-done"} once the runtime has
// written the maps, and becomes the namespace's root. When a pid
// namespace was joined or created, the constructor forks: the parent writes
// {"type":"pid","pid":N} on the sync fd ($_BERTH_SYNC_FD) and exits, and the
// child goes on as the container's init. Errors go to the sync fd as
// {"type":"error","msg":…}, or to stderr when there is no sync fd.
// Without these variables it does nothing.
//
// The common path (new namespaces only) does not use it: Go's clone flags
// and a locked thread in the parent suffice there (internal/linux/ns).
package nsenter

// #cgo CFLAGS: -Wall -O2
import "C"

// Available reports whether the constructor is compiled in (built with cgo).
func Available() bool { return true }
