package runtime

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/linux/ns"
	"github.com/berth-project/berth/internal/linux/nsenter"
	"github.com/berth-project/berth/internal/linux/seccomp"
	"github.com/berth-project/berth/internal/linux/selfexe"
	"github.com/berth-project/berth/internal/runtime/initproc"
)

// spawn starts `berth-runtime init` in the container's namespaces: new
// ones through clone flags, joined ones from a locked thread of ours
// (internal/linux/ns) or, where the kernel wants a single-threaded process
// (user and time namespaces), by the init's C constructor before Go starts
// (internal/linux/nsenter), which also forks into a pid namespace then.
type spawn struct {
	spec         *specs.Spec
	cmd          *exec.Cmd
	parentSync   *os.File
	childEnds    []*os.File
	joins        []ns.Join      // entered by a locked thread of ours before the fork
	childJoins   []nsenter.Join // entered by the init's constructor
	childUnshare uintptr        // created by the init's constructor
	timeOffsets  string         // of a time namespace the constructor creates
	forks        bool           // the constructor forks: the init is our grandchild
	idmapHelper  bool           // the constructor asks us to map its new user namespace
	pid          int            // the init's pid
	dec          *json.Decoder

	// idmapped are detached idmapped mounts for the init, in spec order.
	idmapped []idmappedMount
}

func newSpawn(spec *specs.Spec, preserveFds int, dir string) (*spawn, error) {
	sp := &spawn{spec: spec}
	parent, child, err := socketPair()
	if err != nil {
		return nil, err
	}
	sp.parentSync, sp.childEnds = parent, []*os.File{child}
	// Through a read-only view of ourselves: a container process that
	// reaches the init's /proc/<pid>/exe cannot write the host's binary.
	self, err := selfexe.Path()
	if err != nil && os.Geteuid() == 0 {
		return nil, fmt.Errorf("protect the runtime binary: %w", err)
	}
	cmd := exec.Command(self, "init")
	cmd.Args[0] = "berth-runtime"
	cmd.Dir = dir
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	for i := 0; i < preserveFds; i++ {
		cmd.ExtraFiles = append(cmd.ExtraFiles, os.NewFile(uintptr(3+i), "preserved"))
	}
	cmd.ExtraFiles = append(cmd.ExtraFiles, child)
	cmd.Env = append(os.Environ(), initproc.EnvSyncFd+"="+strconv.Itoa(2+len(cmd.ExtraFiles)))
	attr := &syscall.SysProcAttr{}
	// An unprivileged user may write only a map of its own ids itself; any
	// other map (ranges of /etc/subuid) is written by newuidmap/newgidmap,
	// for a user namespace that the constructor makes (see idmap.go).
	sp.idmapHelper = hasNamespace(spec, specs.UserNamespace) && namespacePath(spec, specs.UserNamespace) == "" &&
		os.Geteuid() != 0 && !ownIDsOnly(spec)
	if sp.idmapHelper && !nsenter.Available() {
		return nil, fmt.Errorf("id mappings beyond the user's own ids need berth-runtime built with cgo: %w", errdefs.ErrNotImplemented)
	}
	userJoin := namespacePath(spec, specs.UserNamespace) != "" || sp.idmapHelper
	for _, k := range ns.Kinds { // in join order: user first
		path, ok := namespaceOf(spec, k.Type)
		if !ok {
			continue
		}
		isPid := k.Flag == unix.CLONE_NEWPID
		switch {
		case path == "" && k.Type == specs.TimeNamespace && nsenter.Available():
			// made by the constructor, which sets the clock offsets and
			// enters it (older kernels do not switch at execve)
			sp.childUnshare |= k.Flag
			sp.timeOffsets = timeOffsets(spec.Linux.TimeOffsets)
		case path == "" && (k.Type == specs.CgroupNamespace || k.Type == specs.TimeNamespace):
			// the init unshares these itself (see initproc.Config)
		case userJoin && path != "":
			sp.childJoins = append(sp.childJoins, nsenter.Join{Flag: k.Flag, Path: path})
			sp.forks = sp.forks || isPid
		case userJoin:
			sp.childUnshare |= k.Flag
			sp.forks = sp.forks || isPid
		case path != "" && k.Type == specs.TimeNamespace:
			sp.childJoins = append(sp.childJoins, nsenter.Join{Flag: k.Flag, Path: path})
		case isPid && path != "" && nsenter.Available():
			// Enter an existing pid namespace only from the sealed init
			// (internal/linux/selfexe): a fork of ours would show the
			// namespace's processes our own binary until it execs.
			sp.childJoins = append(sp.childJoins, nsenter.Join{Flag: k.Flag, Path: path})
			sp.forks = true
		case path != "":
			sp.joins = append(sp.joins, ns.Join{Kind: k, Path: path})
		default:
			attr.Cloneflags |= k.Flag
		}
	}
	if len(sp.childJoins) > 0 && !nsenter.Available() {
		return nil, fmt.Errorf("joining a user or time namespace needs berth-runtime built with cgo: %w", errdefs.ErrNotImplemented)
	}
	if attr.Cloneflags&syscall.CLONE_NEWUSER != 0 {
		for _, m := range spec.Linux.UIDMappings {
			attr.UidMappings = append(attr.UidMappings, syscall.SysProcIDMap{ContainerID: int(m.ContainerID), HostID: int(m.HostID), Size: int(m.Size)})
		}
		for _, m := range spec.Linux.GIDMappings {
			attr.GidMappings = append(attr.GidMappings, syscall.SysProcIDMap{ContainerID: int(m.ContainerID), HostID: int(m.HostID), Size: int(m.Size)})
		}
		attr.GidMappingsEnableSetgroups = os.Geteuid() == 0
		// Become the namespace's root before exec, so that the init keeps
		// its capabilities in the new user namespace.
		attr.Credential = &syscall.Credential{Uid: 0, Gid: 0, NoSetGroups: !attr.GidMappingsEnableSetgroups}
	}
	cmd.SysProcAttr = attr
	sp.cmd = cmd
	return sp, nil
}

// timeOffsets renders clock offsets as /proc/<pid>/timens_offsets lines.
func timeOffsets(offsets map[string]specs.LinuxTimeOffset) string {
	var b strings.Builder
	for clock, o := range offsets {
		fmt.Fprintf(&b, "%s %d %d\n", clock, o.Secs, o.Nanosecs)
	}
	return b.String()
}

// newNS reports whether the container gets a new namespace of type t.
func (sp *spawn) newNS(t specs.LinuxNamespaceType) bool {
	for _, n := range sp.spec.Linux.Namespaces {
		if n.Type == t {
			return n.Path == ""
		}
	}
	return false
}

func (sp *spawn) addConsole(f *os.File) {
	sp.childEnds = append(sp.childEnds, f)
	sp.cmd.ExtraFiles = append(sp.cmd.ExtraFiles, f)
	sp.cmd.Env = append(sp.cmd.Env, initproc.EnvConsoleFd+"="+strconv.Itoa(2+len(sp.cmd.ExtraFiles)))
}

// addSeccompAgent connects to the seccomp agent at the spec's listenerPath
// when filter has notify rules, and hands the connection to the init: the
// runtime dials on the host, where the path means what the spec meant, so
// an agent that is not there fails create (or exec) at once; the init sends
// the listener fd on it once its filter is installed, after pivot_root.
func (sp *spawn) addSeccompAgent(filter *seccomp.Filter) error {
	if filter == nil || filter.Flags()&unix.SECCOMP_FILTER_FLAG_NEW_LISTENER == 0 {
		return nil
	}
	path := sp.spec.Linux.Seccomp.ListenerPath
	if path == "" {
		return fmt.Errorf("linux.seccomp: a notify action needs listenerPath: %w", errdefs.ErrInvalidArgument)
	}
	f, err := seccomp.DialListener(path)
	if err != nil {
		return fmt.Errorf("linux.seccomp.listenerPath: %w", err)
	}
	sp.childEnds = append(sp.childEnds, f)
	sp.cmd.ExtraFiles = append(sp.cmd.ExtraFiles, f)
	sp.cmd.Env = append(sp.cmd.Env, initproc.EnvSeccompAgentFd+"="+strconv.Itoa(2+len(sp.cmd.ExtraFiles)))
	return nil
}

func (sp *spawn) start() error {
	sp.cmd.Env = append(sp.cmd.Env, nsenter.Env(sp.childJoins, sp.childUnshare, sp.timeOffsets)...)
	var err error
	if len(sp.joins) > 0 {
		err = ns.JoinAndRun(sp.joins, sp.cmd.Start)
	} else {
		err = sp.cmd.Start()
	}
	if err != nil {
		return fmt.Errorf("start container init: %w", err)
	}
	sp.pid = sp.cmd.Process.Pid
	sp.closeChildEnds()
	sp.dec = json.NewDecoder(sp.parentSync)
	if sp.idmapHelper {
		if err := sp.writeIDMaps(); err != nil {
			_ = sp.cmd.Process.Kill()
			_ = sp.cmd.Wait()
			return err
		}
	}
	if !sp.forks {
		return nil
	}
	// The constructor forked into the pid namespace: learn the init's pid
	// and reap the intermediate process.
	var m struct {
		initproc.Message
		Pid int `json:"pid"`
	}
	err = sp.dec.Decode(&m)
	_ = sp.cmd.Wait()
	switch {
	case err != nil:
		return fmt.Errorf("container init exited before it was ready")
	case m.Type == initproc.MsgError:
		return errors.New(m.Msg)
	case m.Type != "pid" || m.Pid <= 0:
		return fmt.Errorf("container init sent %q, want its pid", m.Type)
	}
	sp.pid = m.Pid
	return nil
}

// wait waits for the init (or exec'd process) to exit and returns its exit
// code as a shell would give it.
func (sp *spawn) wait() int {
	if !sp.forks {
		_ = sp.cmd.Wait()
		return exitCode(sp.cmd.ProcessState)
	}
	// Our grandchild, reparented to us as the subreaper.
	for {
		var ws unix.WaitStatus
		_, err := unix.Wait4(sp.pid, &ws, 0, nil)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return 255
		}
		if ws.Signaled() {
			return 128 + int(ws.Signal())
		}
		return ws.ExitStatus()
	}
}

// release lets the init go on without us.
func (sp *spawn) release() {
	if !sp.forks {
		_ = sp.cmd.Process.Release()
	}
}

func (sp *spawn) closeChildEnds() {
	for _, f := range sp.childEnds {
		f.Close()
	}
	sp.childEnds = nil
}

func (sp *spawn) closeParentEnds() { sp.parentSync.Close() }

func (sp *spawn) kill() {
	if sp.pid == 0 {
		return
	}
	_ = unix.Kill(sp.pid, unix.SIGKILL)
	if sp.forks {
		_, _ = unix.Wait4(sp.pid, nil, 0, nil) // when we are its subreaper
	} else {
		_ = sp.cmd.Wait()
	}
}

// handshake sends the config and follows the init until it is ready,
// running the hooks the init stops for.
func (sp *spawn) handshake(cfg *initproc.Config, runHooks func() error) error {
	enc := json.NewEncoder(sp.parentSync)
	if err := enc.Encode(cfg); err != nil {
		return fmt.Errorf("send config to container init: %w", err)
	}
	dec := sp.dec
	for {
		var m initproc.Message
		if err := dec.Decode(&m); err != nil {
			return fmt.Errorf("container init exited before it was ready")
		}
		switch m.Type {
		case initproc.MsgReady:
			return nil
		case initproc.MsgError:
			return errors.New(m.Msg)
		case initproc.MsgMounts:
			if err := sp.sendIDMapped(); err != nil {
				return err
			}
		case initproc.MsgHooks:
			if err := runHooks(); err != nil {
				return err
			}
			if err := enc.Encode(initproc.Message{Type: initproc.MsgHooksDone}); err != nil {
				return fmt.Errorf("container init: %w", err)
			}
		default:
			return fmt.Errorf("container init sent unknown message %q", m.Type)
		}
	}
}
