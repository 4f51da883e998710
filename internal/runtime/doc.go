// Package runtime is berth-runtime's state machine: it turns an OCI bundle
// into a container and drives it through the OCI lifecycle.
//
//	create ─▶ created ─start─▶ running ─(process exits)─▶ stopped ─delete─▶ gone
//	                               │ pause ▲ resume
//	                               ▼       │
//	                             paused ───┘
//
// Each container has a directory under the runtime's root (--root) holding
// state.json (written atomically) and, between create and start, exec.fifo.
// The directory itself is the lock (flock) that serialises operations on
// the container. The status is not stored: it is derived from the init
// process (alive, and the same process by its start time), the FIFO (still
// there: created) and the freezer (paused), so it stays true whatever
// killed what.
package runtime
