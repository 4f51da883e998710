package spec

import (
	"reflect"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// resolveUser follows moby/sys/user's GetExecUser and docker's getUser.
func TestResolveUser(t *testing.T) {
	for _, c := range []struct {
		spec     string
		groupAdd []string
		users    Users
		want     specs.User
	}{
		// Root by default, with the groups that list root.
		{"", nil, testUsers, specs.User{UID: 0, GID: 0, AdditionalGids: []uint32{0, 10}}},
		{"root", nil, testUsers, specs.User{UID: 0, GID: 0, AdditionalGids: []uint32{0, 10}}},
		// A name: its primary gid and its groups.
		{"www", nil, testUsers, specs.User{UID: 33, GID: 33, AdditionalGids: []uint32{33, 50}}},
		// A numeric user in passwd is that user, groups included.
		{"1000", nil, testUsers, specs.User{UID: 1000, GID: 1000, AdditionalGids: []uint32{1000, 50, 44}}},
		// A numeric user not in passwd: gid 0, no groups.
		{"1234", nil, testUsers, specs.User{UID: 1234, GID: 0, AdditionalGids: []uint32{0}}},
		{"1234:5678", nil, testUsers, specs.User{UID: 1234, GID: 5678, AdditionalGids: []uint32{5678}}},
		// An explicit group replaces the primary gid and the membership groups.
		{"www:video", nil, testUsers, specs.User{UID: 33, GID: 44, AdditionalGids: []uint32{44}}},
		{"www:7", nil, testUsers, specs.User{UID: 33, GID: 7, AdditionalGids: []uint32{7}}},
		// Fields after a second colon are ignored, as moby's parseLine does.
		{"www:video:extra", nil, testUsers, specs.User{UID: 33, GID: 44, AdditionalGids: []uint32{44}}},
		// --group-add by name and number, each gid once.
		{"app", []string{"staff", "wheel", "99", "10"}, testUsers, specs.User{UID: 1000, GID: 1000, AdditionalGids: []uint32{1000, 50, 44, 10, 99}}},
		// No passwd or group file: numbers only.
		{"", nil, Users{}, specs.User{UID: 0, GID: 0, AdditionalGids: []uint32{0}}},
		{"5:6", []string{"7"}, Users{}, specs.User{UID: 5, GID: 6, AdditionalGids: []uint32{6, 7}}},
		// The first matching entry wins; malformed lines are skipped, never
		// read as uid 0.
		{"dup", nil, Users{Passwd: []byte("dup:x:5:5::/:/bin/sh\ndup:x:6:6::/:/bin/sh\n")}, specs.User{UID: 5, GID: 5, AdditionalGids: []uint32{5}}},
		{"evil", nil, Users{Passwd: []byte("evil:x:notanumber:0::/:/bin/sh\nevil:x:77:77::/:/bin/sh\n")}, specs.User{UID: 77, GID: 77, AdditionalGids: []uint32{77}}},
		// Blank lines, surrounding space and CRLF are tolerated.
		{"lf", nil, Users{Passwd: []byte("\n  lf:x:8:9::/:/bin/sh\r\n\n")}, specs.User{UID: 8, GID: 9, AdditionalGids: []uint32{9}}},
		// Comment-looking lines are entries with odd names, as in moby.
		{"#c", nil, Users{Passwd: []byte("#c:x:3:3::/:/bin/sh\n")}, specs.User{UID: 3, GID: 3, AdditionalGids: []uint32{3}}},
	} {
		got, err := resolveUser(c.spec, c.groupAdd, c.users)
		if err != nil {
			t.Errorf("resolveUser(%q, %q): %v", c.spec, c.groupAdd, err)
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("resolveUser(%q, %q) = %+v, want %+v", c.spec, c.groupAdd, got, c.want)
		}
	}
}

func TestResolveUserErrors(t *testing.T) {
	for _, c := range []struct{ spec string }{
		{"nosuch"}, {"www:nosuch"}, {"-1"}, {"2147483648"}, {"0:4294967296"}, {"root:"},
	} {
		if c.spec == "root:" {
			// An empty group is no group: root with its groups.
			if _, err := resolveUser(c.spec, nil, testUsers); err != nil {
				t.Errorf("resolveUser(%q): %v", c.spec, err)
			}
			continue
		}
		if u, err := resolveUser(c.spec, nil, testUsers); err == nil {
			t.Errorf("resolveUser(%q) = %+v, want an error", c.spec, u)
		}
	}
}
