// Command probe is a tiny static binary that integration tests place at /probe
// inside a container's rootfs to report what a process there sees.
//
// Usage:
//
//	probe report            one JSON object: ids, umask, cwd, uname, env, args,
//	                        capabilities, no_new_privs, seccomp, rlimits,
//	                        oom_score_adj, namespaces, cgroups, mounts, open
//	                        fds, tty, LSM labels (see report.go for the fields)
//	probe exit N            exit with status N
//	probe sleep SECONDS     sleep (fractions allowed), then exit 0
//	probe signals           print "ready", then the name of each signal
//	                        received, one per line; exit 0 after SIGTERM
//	probe stat PATH         JSON: type, mode, uid, gid, size, device numbers,
//	                        symlink target (lstat: links are not followed)
//	probe write PATH TEXT   write TEXT (no newline added) to PATH, creating or
//	                        truncating it; on failure the error goes to stderr
//	                        and the exit status is 1
//	probe cwd-escape        try to leave the root through inherited directory
//	                        fds 3..20 (directly and via /proc/self/fd/N) and
//	                        through ".." walks; JSON with "escaped"
//
// Usage errors exit with status 2. The probe depends only on the standard
// library and golang.org/x/sys/unix, and is built with CGO_ENABLED=0 so it runs
// in any rootfs.
//
// containermaxprocs=0: otherwise the Go runtime (≥ 1.25) keeps the cgroup's
// cpu.cfs_quota_us and cpu.cfs_period_us (or cpu.max) open for the life of the
// process, and they would show up among the fds the probe reports.
//
//go:debug containermaxprocs=0
package main

import (
	"encoding/json"
	"fmt"
	"os"
)

const usage = `usage: probe report | exit N | sleep SECONDS | signals | stat PATH | write PATH TEXT | cwd-escape | exe-attack SECONDS INODE STOPFILE`

func main() {
	if len(os.Args) < 2 {
		fail(2, usage)
	}
	cmd, args := os.Args[1], os.Args[2:]
	want := map[string]int{"report": 0, "exit": 1, "sleep": 1, "signals": 0, "stat": 1, "write": 2, "cwd-escape": 0, "exe-attack": 3}
	n, ok := want[cmd]
	if !ok {
		fail(2, "unknown command %q\n%s", cmd, usage)
	}
	if len(args) != n {
		fail(2, "%s takes %d argument(s), got %d\n%s", cmd, n, len(args), usage)
	}
	switch cmd {
	case "report":
		printJSON(collectReport())
	case "exit":
		exitWith(args[0])
	case "sleep":
		sleep(args[0])
	case "signals":
		signals()
	case "stat":
		printJSON(statPath(args[0]))
	case "write":
		write(args[0], args[1])
	case "cwd-escape":
		printJSON(cwdEscape())
	case "exe-attack":
		printJSON(exeAttack(args[0], args[1], args[2]))
	}
}

// printJSON writes v as one indented JSON object followed by a newline.
func printJSON(v any) {
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		fail(1, "write json: %v", err)
	}
}

// fail prints "probe: " and the message on stderr and exits with code.
func fail(code int, format string, args ...any) {
	fmt.Fprintf(os.Stderr, "probe: "+format+"\n", args...)
	os.Exit(code)
}
