package initproc

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/linux/caps"
	"github.com/berth-project/berth/internal/linux/pathrs"
	"github.com/berth-project/berth/internal/linux/seccomp"
)

// process is the container process about to be exec'd, with everything
// resolved that can fail before the runtime is told "ready".
type process struct {
	cfg     *Config
	spec    *specs.Process
	path    string // resolved binary
	env     []string
	caps    caps.Sets
	rlimits []rlimit
	filter  *seccomp.Filter
	agent   *os.File // connection to the seccomp agent, for a filter with notify rules
}

type rlimit struct {
	resource int
	lim      unix.Rlimit
}

var rlimitNames = map[string]int{
	"RLIMIT_AS": unix.RLIMIT_AS, "RLIMIT_CORE": unix.RLIMIT_CORE, "RLIMIT_CPU": unix.RLIMIT_CPU,
	"RLIMIT_DATA": unix.RLIMIT_DATA, "RLIMIT_FSIZE": unix.RLIMIT_FSIZE, "RLIMIT_LOCKS": unix.RLIMIT_LOCKS,
	"RLIMIT_MEMLOCK": unix.RLIMIT_MEMLOCK, "RLIMIT_MSGQUEUE": unix.RLIMIT_MSGQUEUE, "RLIMIT_NICE": unix.RLIMIT_NICE,
	"RLIMIT_NOFILE": unix.RLIMIT_NOFILE, "RLIMIT_NPROC": unix.RLIMIT_NPROC, "RLIMIT_RSS": unix.RLIMIT_RSS,
	"RLIMIT_RTPRIO": unix.RLIMIT_RTPRIO, "RLIMIT_RTTIME": unix.RLIMIT_RTTIME, "RLIMIT_SIGPENDING": unix.RLIMIT_SIGPENDING,
	"RLIMIT_STACK": unix.RLIMIT_STACK,
}

// RlimitNumber returns the resource number of an RLIMIT_* name.
func RlimitNumber(name string) (int, bool) {
	n, ok := rlimitNames[name]
	return n, ok
}

func newProcess(cfg *Config) (*process, error) {
	sp := cfg.Process
	p := &process{cfg: cfg, spec: sp, env: append([]string(nil), sp.Env...)}
	if len(sp.Args) == 0 {
		return nil, errors.New("process has no args")
	}
	for _, r := range sp.Rlimits {
		n, ok := rlimitNames[r.Type]
		if !ok {
			return nil, fmt.Errorf("unknown rlimit %q", r.Type)
		}
		p.rlimits = append(p.rlimits, rlimit{n, unix.Rlimit{Cur: r.Soft, Max: r.Hard}})
	}
	if err := caps.Validate(sp.Capabilities); err != nil {
		return nil, err
	}
	p.caps = caps.FromSpec(sp.Capabilities)
	p.filter = cfg.Seccomp
	if p.filter != nil && p.filter.Flags()&unix.SECCOMP_FILTER_FLAG_NEW_LISTENER != 0 {
		agent, err := fdFromEnv(EnvSeccompAgentFd, "seccomp agent")
		if err != nil {
			return nil, err
		}
		p.agent = agent
	}
	if !hasEnv(p.env, "HOME") {
		p.env = append(p.env, "HOME="+homeOf(sp.User.UID))
	}
	path, err := lookPath(sp.Args[0], p.env, sp.Cwd)
	if err != nil {
		return nil, err
	}
	p.path = path
	// The score survives execve: set it now, so that a value the host
	// refuses (lowering it needs CAP_SYS_RESOURCE) fails create, not start.
	if sp.OOMScoreAdj != nil {
		if err := writeOOMScoreAdj(*sp.OOMScoreAdj); err != nil {
			return nil, fmt.Errorf("process.oomScoreAdj: set oom_score_adj %d: %w", *sp.OOMScoreAdj, err)
		}
	}
	return p, nil
}

// writeOOMScoreAdj writes the score through a verified procfs handle that
// crosses no mount: a mount over /proc/self/oom_score_adj (from the spec or
// the image) cannot redirect the write to another file (CVE-2025-52881).
func writeOOMScoreAdj(score int) error {
	proc, err := pathrs.OpenProc("/proc")
	if err != nil {
		return err
	}
	defer proc.Close()
	f, err := proc.Open("self/oom_score_adj", unix.O_WRONLY)
	if err != nil {
		return err
	}
	_, err = f.WriteString(strconv.Itoa(score))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func hasEnv(env []string, key string) bool {
	for _, e := range env {
		if strings.HasPrefix(e, key+"=") {
			return true
		}
	}
	return false
}

// homeOf looks uid up in the container's /etc/passwd ("/" when absent).
func homeOf(uid uint32) string {
	f, err := os.Open("/etc/passwd")
	if err != nil {
		return "/"
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		parts := strings.Split(s.Text(), ":")
		if len(parts) >= 6 && parts[2] == strconv.FormatUint(uint64(uid), 10) && parts[5] != "" {
			return parts[5]
		}
	}
	return "/"
}

// lookPath finds the process binary as execvp would, in the container.
func lookPath(name string, env []string, cwd string) (string, error) {
	if strings.Contains(name, "/") {
		p := name
		if !filepath.IsAbs(p) {
			p = filepath.Join(cwd, p)
		}
		if err := executable(p); err != nil {
			return "", fmt.Errorf("exec %q: %w", name, err)
		}
		return p, nil
	}
	path := "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	for _, e := range env {
		if strings.HasPrefix(e, "PATH=") {
			path = e[5:]
		}
	}
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			dir = "."
		}
		p := filepath.Join(dir, name)
		if !filepath.IsAbs(p) {
			p = filepath.Join(cwd, p)
		}
		if executable(p) == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("exec %q: executable file not found in $PATH", name)
}

func executable(p string) error {
	fi, err := os.Stat(p)
	if err != nil {
		if os.IsNotExist(err) {
			return errors.New("no such file or directory")
		}
		return err
	}
	if fi.IsDir() {
		// execve(2) fails with EACCES on a directory; runc says so too, and
		// clients (Podman) map "permission denied" to exit code 126.
		return errors.New("permission denied")
	}
	if fi.Mode()&0o111 == 0 {
		return errors.New("permission denied")
	}
	return nil
}

// prepare applies the process's limits, labels, cwd, identity,
// capabilities, no_new_privs and seccomp, in the order that keeps each step
// possible (as runc does, before the runtime is told "ready", so that
// `create` reports what fails here).
func (p *process) prepare() error {
	sp := p.spec
	for _, r := range p.rlimits {
		if err := unix.Setrlimit(r.resource, &r.lim); err != nil {
			return fmt.Errorf("set rlimit %d: %w", r.resource, err)
		}
	}
	if err := applyLabels(sp); err != nil {
		return err
	}
	// Nothing of the runtime's may reach the container: every fd past the
	// preserved ones is closed on exec.
	if err := unix.CloseRange(uint(3+p.cfg.PreserveFds), ^uint(0), unix.CLOSE_RANGE_CLOEXEC); err != nil {
		return fmt.Errorf("mark fds close-on-exec: %w", err)
	}
	// The cwd, entered as root where root may, is checked before seccomp,
	// whose filter may deny getcwd.
	chdirDone := unix.Chdir(sp.Cwd) == nil
	if chdirDone {
		if err := checkCwd(sp.Cwd); err != nil {
			return err
		}
	}
	if p.filter != nil && !sp.NoNewPrivileges {
		// Without no_new_privs the filter needs CAP_SYS_ADMIN: load it now.
		if err := p.installSeccomp(); err != nil {
			return err
		}
	}
	if err := caps.DropBounding(p.caps); err != nil {
		return err
	}
	if err := unix.Prctl(unix.PR_SET_KEEPCAPS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("keep capabilities: %w", err)
	}
	if err := setUser(sp.User); err != nil {
		return err
	}
	if err := unix.Prctl(unix.PR_SET_KEEPCAPS, 0, 0, 0, 0); err != nil {
		return fmt.Errorf("clear keep capabilities: %w", err)
	}
	if err := caps.Apply(p.caps); err != nil {
		return err
	}
	if sp.User.Umask != nil {
		unix.Umask(int(*sp.User.Umask))
	} else {
		unix.Umask(0o022)
	}
	if !chdirDone {
		if err := unix.Chdir(sp.Cwd); err != nil {
			return fmt.Errorf("chdir to cwd %q: %w", sp.Cwd, err)
		}
		if err := checkCwd(sp.Cwd); err != nil {
			return err
		}
	}
	if sp.NoNewPrivileges {
		if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
			return fmt.Errorf("set no_new_privs: %w", err)
		}
		// Last, as runc does: before "ready", so that a seccomp agent
		// gets its fd during create, and as few syscalls as possible
		// (the FIFO, startContainer hooks, execve) pass the filter.
		if p.filter != nil {
			if err := p.installSeccomp(); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkCwd makes sure the working directory is inside the container
// (CVE-2024-21626): one reached through a leaked fd shows as
// "(unreachable)…".
func checkCwd(cwd string) error {
	if wd, err := unix.Getwd(); err != nil || !strings.HasPrefix(wd, "/") {
		return fmt.Errorf("cwd %q is outside the container", cwd)
	}
	return nil
}

// exec execs the process: everything else is done.
func (p *process) exec() error {
	sp := p.spec
	if err := unix.Exec(p.path, sp.Args, p.env); err != nil {
		return fmt.Errorf("exec %s: %w", sp.Args[0], err)
	}
	return nil
}

func (p *process) installSeccomp() error {
	fd, err := p.filter.Install()
	if err != nil {
		return fmt.Errorf("install seccomp filter: %w", err)
	}
	if fd < 0 {
		return nil
	}
	defer unix.Close(fd)
	sc := p.cfg.Spec.Linux.Seccomp
	if p.agent == nil {
		return errors.New("seccomp notify action without a connection to the agent")
	}
	defer p.agent.Close()
	st := p.cfg.State
	st.Status = "creating"
	if p.cfg.Exec {
		st.Status = "running"
	}
	pid := p.cfg.Pid
	if pid == 0 {
		pid = os.Getpid()
	}
	msg, err := seccomp.ProcessState(pid, sc.ListenerMetadata, st)
	if err != nil {
		return err
	}
	if err := seccomp.SendState(p.agent, sc.ListenerPath, fd, msg); err != nil {
		return fmt.Errorf("seccomp listener %s: %w", sc.ListenerPath, err)
	}
	return nil
}

// setUser switches the calling thread to the process's user and groups.
// The raw syscalls act on this thread only: it is the one that execs.
func setUser(u specs.User) error {
	gids := make([]int, 0, len(u.AdditionalGids))
	for _, g := range u.AdditionalGids {
		gids = append(gids, int(g))
	}
	if err := unix.Setgroups(gids); err != nil && (len(gids) > 0 || !errors.Is(err, unix.EPERM)) {
		return fmt.Errorf("setgroups %v: %w", gids, err)
	}
	if _, _, e := unix.RawSyscall(unix.SYS_SETRESGID, uintptr(u.GID), uintptr(u.GID), uintptr(u.GID)); e != 0 {
		return fmt.Errorf("setgid %d: %w", u.GID, e)
	}
	if _, _, e := unix.RawSyscall(unix.SYS_SETRESUID, uintptr(u.UID), uintptr(u.UID), uintptr(u.UID)); e != 0 {
		return fmt.Errorf("setuid %d: %w", u.UID, e)
	}
	return nil
}

// applyLabels asks the LSMs to label the process on exec.
func applyLabels(sp *specs.Process) error {
	if sp.ApparmorProfile != "" {
		if err := os.WriteFile("/proc/thread-self/attr/apparmor/exec", []byte("exec "+sp.ApparmorProfile), 0); err != nil {
			return fmt.Errorf("set apparmor profile %q: %w", sp.ApparmorProfile, err)
		}
	}
	if sp.SelinuxLabel != "" {
		if err := os.WriteFile("/proc/thread-self/attr/exec", []byte(sp.SelinuxLabel), 0); err != nil {
			return fmt.Errorf("set selinux label %q: %w", sp.SelinuxLabel, err)
		}
	}
	return nil
}
