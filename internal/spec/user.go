package spec

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-project/berth/internal/errdefs"
)

// passwdEntry and groupEntry are the fields of /etc/passwd and /etc/group
// that user resolution needs.
type passwdEntry struct {
	name     string
	uid, gid int
}

type groupEntry struct {
	name    string
	gid     int
	members []string
}

// parseID reads a uid or gid: a decimal number in 0..2^31-1 (the range
// moby/sys/user accepts).
func parseID(s string) (int, bool) {
	if s == "" || len(s) > 10 {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > math.MaxInt32 {
		return 0, false
	}
	return n, true
}

// lines splits a passwd or group file into its lines' colon-separated
// fields, skipping blank lines.
func lines(data []byte) [][]string {
	var out [][]string
	for _, l := range bytes.Split(data, []byte("\n")) {
		l = bytes.TrimSpace(l)
		if len(l) == 0 {
			continue
		}
		out = append(out, strings.Split(string(l), ":"))
	}
	return out
}

// parsePasswd reads name:password:uid:gid:gecos:home:shell lines. A line
// whose uid or gid is not a number is skipped (moby/sys/user would read it
// as 0, i.e. root).
func parsePasswd(data []byte) []passwdEntry {
	var out []passwdEntry
	for _, f := range lines(data) {
		if len(f) < 4 {
			continue
		}
		uid, ok1 := parseID(f[2])
		gid, ok2 := parseID(f[3])
		if !ok1 || !ok2 {
			continue
		}
		out = append(out, passwdEntry{name: f[0], uid: uid, gid: gid})
	}
	return out
}

// parseGroup reads name:password:gid:member,member lines, skipping those
// without a numeric gid.
func parseGroup(data []byte) []groupEntry {
	var out []groupEntry
	for _, f := range lines(data) {
		if len(f) < 3 {
			continue
		}
		gid, ok := parseID(f[2])
		if !ok {
			continue
		}
		g := groupEntry{name: f[0], gid: gid}
		if len(f) > 3 && f[3] != "" {
			g.members = strings.Split(f[3], ",")
		}
		out = append(out, g)
	}
	return out
}

// resolveUser turns a user spec into the process's ids with moby/sys/user's
// rules (GetExecUser), as docker's getUser does:
//   - "" is root (0:0); "user" or "user:group" otherwise (fields after a
//     second colon are ignored);
//   - a numeric user is always a uid: the first passwd entry with it gives
//     the primary gid, and a uid not in passwd is allowed (gid 0);
//   - a name must be in passwd (first match wins);
//   - an explicit group (name, or gid that need not exist) sets the primary
//     gid and disables supplementary groups; otherwise a matched user gets
//     the groups that list it as a member;
//   - additionalGids is the primary gid, then those groups, then --group-add
//     (names looked up in group, numbers allowed when absent), each once.
func resolveUser(spec string, groupAdd []string, users Users) (specs.User, error) {
	userArg, groupArg, _ := strings.Cut(spec, ":")
	groupArg, _, _ = strings.Cut(groupArg, ":")
	uidArg, uidNumeric := parseID(userArg)
	gidArg, gidNumeric := parseID(groupArg)

	uid, gid := 0, 0
	matched := ""
	passwd := parsePasswd(users.Passwd)
	found := false
	for _, p := range passwd {
		if (userArg == "" && p.uid == 0) || (uidNumeric && p.uid == uidArg) || (!uidNumeric && userArg != "" && p.name == userArg) {
			uid, gid, matched, found = p.uid, p.gid, p.name, true
			break
		}
	}
	if !found && userArg != "" {
		if !uidNumeric {
			if _, err := strconv.Atoi(userArg); err == nil {
				return specs.User{}, fmt.Errorf("user %q: uid out of range 0..%d: %w", spec, math.MaxInt32, errdefs.ErrInvalidArgument)
			}
			return specs.User{}, fmt.Errorf("unable to find user %s: no matching entries in passwd file: %w", userArg, errdefs.ErrInvalidArgument)
		}
		uid = uidArg
	}

	groups := parseGroup(users.Group)
	var sgids []int
	if groupArg != "" {
		found := false
		for _, g := range groups {
			if (gidNumeric && g.gid == gidArg) || (!gidNumeric && g.name == groupArg) {
				gid, found = g.gid, true
				break
			}
		}
		if !found {
			if !gidNumeric {
				if _, err := strconv.Atoi(groupArg); err == nil {
					return specs.User{}, fmt.Errorf("user %q: gid out of range 0..%d: %w", spec, math.MaxInt32, errdefs.ErrInvalidArgument)
				}
				return specs.User{}, fmt.Errorf("unable to find group %s: no matching entries in group file: %w", groupArg, errdefs.ErrInvalidArgument)
			}
			gid = gidArg
		}
	} else if matched != "" {
		for _, g := range groups {
			for _, m := range g.members {
				if m == matched {
					sgids = append(sgids, g.gid)
					break
				}
			}
		}
	}

	for _, a := range groupAdd {
		n, numeric := parseID(a)
		found := false
		for _, g := range groups {
			if g.name == a || (numeric && g.gid == n) {
				sgids, found = append(sgids, g.gid), true
				break
			}
		}
		if !found {
			if !numeric {
				return specs.User{}, fmt.Errorf("--group-add: unable to find group %s: %w", a, errdefs.ErrInvalidArgument)
			}
			sgids = append(sgids, n)
		}
	}

	u := specs.User{UID: uint32(uid), GID: uint32(gid), AdditionalGids: []uint32{uint32(gid)}}
	for _, g := range sgids {
		u.AdditionalGids = appendNew(u.AdditionalGids, uint32(g))
	}
	return u, nil
}
