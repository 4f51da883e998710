package main

import (
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// report is what `probe report` prints. A field that could not be read keeps
// its zero value and has an entry in Errors, keyed by its JSON name.
type report struct {
	PID         int               `json:"pid"`
	PPID        int               `json:"ppid"`
	UID         int               `json:"uid"`
	EUID        int               `json:"euid"`
	GID         int               `json:"gid"`
	EGID        int               `json:"egid"`
	Groups      []int             `json:"groups"`
	Umask       string            `json:"umask"` // octal, as in /proc/self/status: "0022"
	Cwd         string            `json:"cwd"`   // getcwd(2), not $PWD
	Hostname    string            `json:"hostname"`
	Domainname  string            `json:"domainname"`
	Env         []string          `json:"env"`
	Args        []string          `json:"args"`
	Caps        capSets           `json:"caps"`
	NoNewPrivs  bool              `json:"no_new_privs"`
	Seccomp     seccomp           `json:"seccomp"`
	Rlimits     map[string]rlimit `json:"rlimits"` // RLIMIT_* → limits, -1 = unlimited
	OOMScoreAdj int               `json:"oom_score_adj"`
	Namespaces  map[string]string `json:"namespaces"` // "net" → "net:[4026531840]"
	Cgroup      []string          `json:"cgroup"`     // lines of /proc/self/cgroup
	Mounts      []mount           `json:"mounts"`
	FDs         []openFD          `json:"fds"`
	TTY         bool              `json:"tty"` // stdin is a terminal (TCGETS succeeds)
	LSM         lsm               `json:"lsm"`
	Errors      map[string]string `json:"errors,omitempty"`
}

// seccomp is the process's seccomp state: mode 0 "disabled", 1 "strict",
// 2 "filter"; Filters counts the attached filters (kernels ≥ 5.9).
type seccomp struct {
	Mode    int    `json:"mode"`
	Name    string `json:"name"`
	Filters int    `json:"filters"`
}

// lsm holds the security labels of the process, empty when not readable.
type lsm struct {
	Current  string `json:"current,omitempty"`  // /proc/self/attr/current (SELinux, or the first LSM)
	AppArmor string `json:"apparmor,omitempty"` // /proc/self/attr/apparmor/current
}

// collectReport gathers the report. Fds are listed first, before anything
// else opens a file.
func collectReport() *report {
	r := &report{Errors: map[string]string{}}
	note := func(field string, err error) {
		if err != nil {
			r.Errors[field] = err.Error()
		}
	}
	var err error
	r.FDs, err = listFDs()
	note("fds", err)

	r.PID, r.PPID = os.Getpid(), os.Getppid()
	r.UID, r.EUID, r.GID, r.EGID = unix.Getuid(), unix.Geteuid(), unix.Getgid(), unix.Getegid()
	r.Groups, err = unix.Getgroups()
	note("groups", err)
	if r.Groups == nil {
		r.Groups = []int{}
	}
	r.Cwd, err = unix.Getwd()
	note("cwd", err)
	var uts unix.Utsname
	if err := unix.Uname(&uts); err != nil {
		note("hostname", err)
	} else {
		r.Hostname = unix.ByteSliceToString(uts.Nodename[:])
		r.Domainname = unix.ByteSliceToString(uts.Domainname[:])
	}
	r.Env, r.Args = os.Environ(), os.Args

	status, err := statusFields()
	note("status", err)
	if status != nil {
		r.Umask = status["Umask"]
		r.Caps, err = readCaps(status)
		note("caps", err)
		r.NoNewPrivs = status["NoNewPrivs"] == "1"
		r.Seccomp.Mode, _ = strconv.Atoi(status["Seccomp"])
		r.Seccomp.Name = [...]string{"disabled", "strict", "filter"}[min(max(r.Seccomp.Mode, 0), 2)]
		r.Seccomp.Filters, _ = strconv.Atoi(status["Seccomp_filters"])
	}
	r.Rlimits, err = readRlimits()
	note("rlimits", err)
	if b, err := readFile("/proc/self/oom_score_adj"); err != nil {
		note("oom_score_adj", err)
	} else {
		r.OOMScoreAdj, err = strconv.Atoi(strings.TrimSpace(string(b)))
		note("oom_score_adj", err)
	}
	r.Namespaces, err = readNamespaces()
	note("namespaces", err)
	r.Cgroup, err = readLines("/proc/self/cgroup")
	note("cgroup", err)
	if lines, err := readLines("/proc/self/mountinfo"); err != nil {
		note("mounts", err)
	} else {
		r.Mounts, err = parseMountinfo(lines)
		note("mounts", err)
	}
	_, err = unix.IoctlGetTermios(0, unix.TCGETS)
	r.TTY = err == nil
	r.LSM.Current = readLabel("/proc/self/attr/current")
	r.LSM.AppArmor = readLabel("/proc/self/attr/apparmor/current")
	return r
}

// readNamespaces maps each entry of /proc/self/ns to its link target.
func readNamespaces() (map[string]string, error) {
	names, err := readDirNames("/proc/self/ns", nil)
	if err != nil {
		return nil, err
	}
	ns := make(map[string]string, len(names))
	for _, name := range names {
		target, err := readlink("/proc/self/ns/" + name)
		if err != nil {
			return ns, err
		}
		ns[name] = target
	}
	return ns, nil
}

// readLabel returns the label in an LSM attribute file, "" when unreadable.
func readLabel(path string) string {
	b, err := readFile(path)
	if err != nil {
		return ""
	}
	return strings.TrimRight(string(b), "\x00\n ")
}
