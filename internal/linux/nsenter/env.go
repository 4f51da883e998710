package nsenter

import (
	"fmt"
	"strings"
)

// Environment variables read by the constructor.
const (
	EnvJoin        = "_BERTH_NS_JOIN"
	EnvUnshare     = "_BERTH_NS_UNSHARE"
	EnvTimeOffsets = "_BERTH_NS_TIME_OFFSETS"
	EnvKeepCwd     = "_BERTH_NS_KEEP_CWD"
	EnvSyncFd      = "_BERTH_SYNC_FD"
)

// Sync messages of the id-map handshake (see the package doc).
const (
	MsgIDMap     = "idmap"
	MsgIDMapDone = "idmap-done"
)

// Join is one namespace for the constructor to enter.
type Join struct {
	Flag uintptr // CLONE_NEW*
	Path string
}

// Env returns the environment entries that ask the constructor for joins
// (in order), then for unsharing flags; timeOffsets are the lines of
// /proc/<pid>/timens_offsets for a new time namespace.
func Env(joins []Join, unshare uintptr, timeOffsets string) []string {
	var env []string
	if len(joins) > 0 {
		lines := make([]string, 0, len(joins))
		for _, j := range joins {
			lines = append(lines, fmt.Sprintf("%x %s", j.Flag, j.Path))
		}
		env = append(env, EnvJoin+"="+strings.Join(lines, "\n"))
	}
	if unshare != 0 {
		env = append(env, fmt.Sprintf("%s=%x", EnvUnshare, unshare))
	}
	if timeOffsets != "" {
		env = append(env, EnvTimeOffsets+"="+timeOffsets)
	}
	return env
}
