package runtime

import (
	"fmt"
	"os"
	"os/signal"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/linux/ns"
	"github.com/berth-project/berth/internal/linux/nsenter"
	"github.com/berth-project/berth/internal/linux/pty"
	"github.com/berth-project/berth/internal/runtime/initproc"
)

// ExecOptions are the flags of `exec`.
type ExecOptions struct {
	ID            string
	Process       *specs.Process
	ConsoleSocket string
	PidFile       string
	Detach        bool
	PreserveFds   int
}

// Exec starts a new process in a running container. In the foreground it
// waits for it and returns its exit code.
func (r *Runtime) Exec(o ExecOptions) (int, error) {
	c, err := r.load(o.ID)
	if err != nil {
		return 0, err
	}
	switch st := c.Status(); st {
	case Running, Created:
	default:
		return 0, wrongState(c, "exec in", st)
	}
	p := o.Process
	if err := ValidateProcess(p); err != nil {
		return 0, err
	}
	if p.Terminal && o.ConsoleSocket == "" && o.Detach {
		return 0, fmt.Errorf("exec -t -d needs --console-socket: %w", errdefs.ErrInvalidArgument)
	}
	spec := c.State.Spec
	sp, err := newExecSpawn(c, o.PreserveFds)
	if err != nil {
		return 0, err
	}
	defer sp.closeChildEnds()
	defer sp.closeParentEnds()
	filter, err := r.compileSeccomp(spec)
	if err != nil {
		return 0, err
	}
	if err := sp.addSeccompAgent(filter); err != nil {
		return 0, err
	}
	var consoleLocal *os.File
	if p.Terminal {
		if o.ConsoleSocket != "" {
			f, err := dialConsole(o.ConsoleSocket)
			if err != nil {
				return 0, err
			}
			sp.addConsole(f)
		} else {
			local, remote, err := socketPair()
			if err != nil {
				return 0, err
			}
			consoleLocal = local
			defer local.Close()
			sp.addConsole(remote)
		}
	}
	var sigs chan os.Signal
	if !o.Detach {
		// The process is our grandchild when the init forks into the
		// container's pid namespace: be its reaper.
		_ = unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
		// Signals are for the process from now on (not our death).
		sigs = catchSignals()
		defer signal.Stop(sigs)
	}
	if err := sp.start(); err != nil {
		return 0, err
	}
	ok := false
	defer func() {
		if !ok {
			sp.kill()
		}
	}()
	if m, err := c.cgroupManager(); err == nil && m != nil {
		if err := m.Apply(sp.pid); err != nil {
			return 0, fmt.Errorf("exec: join cgroup: %w", err)
		}
	}
	cfg := initproc.Config{
		Spec: spec, Process: p, Exec: true, PreserveFds: o.PreserveFds, Seccomp: filter, Pid: sp.pid,
		JoinMnt: "/proc/" + strconv.Itoa(c.State.Pid) + "/ns/mnt",
		State:   *c.specState(Running),
	}
	if err := sp.handshake(&cfg, nil); err != nil {
		return 0, fmt.Errorf("exec in %q: %w", o.ID, err)
	}
	var master *os.File
	if consoleLocal != nil {
		if master, err = pty.RecvFd(consoleLocal); err != nil {
			return 0, err
		}
	}
	if o.PidFile != "" {
		if err := writePidFile(o.PidFile, sp.pid); err != nil {
			return 0, err
		}
	}
	ok = true
	if o.Detach {
		sp.release()
		return 0, nil
	}
	return forward(sp, master, sigs), nil
}

// newExecSpawn prepares an init that enters every namespace of c's init
// except mnt (which the init joins itself, from its locked thread).
func newExecSpawn(c *Container, preserveFds int) (*spawn, error) {
	spec := *c.State.Spec
	linux := *spec.Linux
	spec.Linux = &linux
	linux.Namespaces = nil
	sp, err := newSpawn(&spec, preserveFds, "/")
	if err != nil {
		return nil, err
	}
	self := "/proc/self/ns/"
	target := "/proc/" + strconv.Itoa(c.State.Pid) + "/ns/"
	// Unprivileged, the container's other namespaces are joined after its
	// user namespace, by the constructor: we hold no capability over them
	// before. (Root joins them first, from a locked thread of ours.)
	_, hasUser := namespaceOf(c.State.Spec, specs.UserNamespace)
	inUser := os.Geteuid() != 0 && hasUser && !sameNS(self+"user", target+"user") && nsenter.Available()
	for _, k := range ns.Kinds { // in join order: user first
		if _, ok := namespaceOf(c.State.Spec, k.Type); !ok || k.Flag == unix.CLONE_NEWNS {
			continue
		}
		if sameNS(self+k.ProcName, target+k.ProcName) {
			continue
		}
		if inUser && k.Flag != unix.CLONE_NEWPID {
			sp.childJoins = append(sp.childJoins, nsenter.Join{Flag: k.Flag, Path: target + k.ProcName})
			continue
		}
		if k.Flag == unix.CLONE_NEWPID && nsenter.Available() {
			// Enter the container's pid namespace only from the sealed
			// init, which forks there (CVE-2019-5736: a fork of ours
			// would be visible in the container, running our binary).
			sp.childJoins = append(sp.childJoins, nsenter.Join{Flag: k.Flag, Path: target + k.ProcName})
			sp.forks = true
			continue
		}
		if k.Flag == unix.CLONE_NEWUSER || k.Flag == unix.CLONE_NEWTIME {
			// only a single-threaded process may: the init's constructor
			if !nsenter.Available() {
				return nil, fmt.Errorf("exec into a container with its own %s namespace needs berth-runtime built with cgo: %w", k.ProcName, errdefs.ErrNotImplemented)
			}
			sp.childJoins = append(sp.childJoins, nsenter.Join{Flag: k.Flag, Path: target + k.ProcName})
			continue
		}
		sp.joins = append(sp.joins, ns.Join{Kind: k, Path: target + k.ProcName})
	}
	return sp, nil
}

func sameNS(a, b string) bool {
	var sa, sb unix.Stat_t
	if unix.Stat(a, &sa) != nil || unix.Stat(b, &sb) != nil {
		return false
	}
	return sa.Ino == sb.Ino && sa.Dev == sb.Dev
}
