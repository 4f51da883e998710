// Package initproc is what runs inside a container's new namespaces before
// its process starts: `berth-runtime init`, re-executed by the runtime through
// /proc/self/exe.
//
// The parent (internal/runtime) and the init talk over a socket pair (fd in
// $_BERTH_SYNC_FD) in JSON messages:
//
//	parent → init   Config                      (after the cgroup is joined)
//	init → parent   {"type":"mounts"}           (only with idmapped mounts: before any mount)
//	parent → init   one message per idmapped mount, in spec order: the
//	                destination as data, the detached mount (made by the
//	                runtime, see internal/linux/idmap) as SCM_RIGHTS; read
//	                with recvmsg, not as JSON
//	init → parent   {"type":"hooks"}            (mounts done, before pivot_root)
//	parent → init   {"type":"hooks-done"}       (prestart/createRuntime hooks ran)
//	init → parent   {"type":"ready"}            (all set up; process binary found)
//	init → parent   {"type":"error","msg":…}    (setup failed; init exits)
//
// After "ready" a container's init blocks opening the exec FIFO for writing
// until `berth-runtime start` opens it for reading; then it runs the
// startContainer hooks, drops privileges, installs seccomp and execs the
// process. An exec'd process (Config.Exec) does the same minus the rootfs.
package initproc

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-project/berth/internal/linux/seccomp"
)

// Environment variables through which the parent hands fds to the init.
const (
	EnvSyncFd    = "_BERTH_SYNC_FD"
	EnvConsoleFd = "_BERTH_CONSOLE_FD"
	// EnvSeccompAgentFd: the runtime's connection to the seccomp agent
	// (linux.seccomp.listenerPath), when the filter has notify rules.
	EnvSeccompAgentFd = "_BERTH_SECCOMP_AGENT_FD"
)

// Config is everything the init needs, sent as the first sync message.
type Config struct {
	Spec         *specs.Spec    `json:"spec"`
	Process      *specs.Process `json:"process"` // the process to run (Spec.Process for the container's init)
	Rootfs       string         `json:"rootfs"`  // absolute path of the rootfs
	FifoPath     string         `json:"fifo,omitempty"`
	NoPivot      bool           `json:"noPivot,omitempty"`
	NoNewKeyring bool           `json:"noNewKeyring,omitempty"`
	PreserveFds  int            `json:"preserveFds,omitempty"`
	// NewCgroupNS asks the init to unshare a cgroup namespace once it runs
	// in the container's cgroup (so the namespace's root is that cgroup).
	NewCgroupNS bool `json:"newCgroupNS,omitempty"`
	// Seccomp is the process's filter, compiled by the runtime (nil: none).
	Seccomp *seccomp.Filter `json:"seccomp,omitempty"`
	// CgroupPaths are the container's cgroup directories (controller →
	// absolute path; "" for the unified hierarchy), for cgroup mounts.
	CgroupPaths map[string]string `json:"cgroupPaths,omitempty"`
	// HostMounts: the container has no mount namespace of its own. Its
	// mounts are made in the runtime's (under the rootfs only, undone by
	// delete) and it is chroot'ed, not pivoted.
	HostMounts bool `json:"hostMounts,omitempty"`
	// NewTimeNS asks the init to unshare a time namespace (with
	// Spec.Linux.TimeOffsets): the process enters it at execve.
	NewTimeNS bool `json:"newTimeNS,omitempty"`
	// UserNS tells the init it runs in a user namespace (its own, or the
	// one the runtime itself runs in, a rootless engine's): devices are
	// bind-mounted from the host, not created.
	UserNS bool `json:"userNS,omitempty"`
	// NewUTS reports whether the container has a UTS namespace of its own
	// (hostname and domainname may only be set then).
	NewUTS bool `json:"newUTS,omitempty"`
	// HookHandshake asks the init to stop before pivot_root for the
	// parent's prestart and createRuntime hooks.
	HookHandshake bool `json:"hookHandshake,omitempty"`
	// Pid is the process's pid as the runtime sees it (the seccomp agent's
	// containerProcessState carries it).
	Pid int `json:"pid,omitempty"`
	// State is the container's state, passed to the hooks the init runs.
	State specs.State `json:"state"`
	// Exec marks an exec'd process: join the container's mount namespace
	// (JoinMnt), no rootfs setup, no FIFO.
	Exec    bool   `json:"exec,omitempty"`
	JoinMnt string `json:"joinMnt,omitempty"`
}

// Message is one sync message.
type Message struct {
	Type string `json:"type"`
	Msg  string `json:"msg,omitempty"`
}

// Message types.
const (
	MsgMounts    = "mounts"
	MsgHooks     = "hooks"
	MsgHooksDone = "hooks-done"
	MsgReady     = "ready"
	MsgError     = "error"
)
