package runtime

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/linux/cgroups"
	"github.com/berth-project/berth/internal/linux/mount"
	"github.com/berth-project/berth/internal/linux/ns"
	"github.com/berth-project/berth/internal/linux/nsenter"
	"github.com/berth-project/berth/internal/linux/pty"
	"github.com/berth-project/berth/internal/linux/seccomp"
	"github.com/berth-project/berth/internal/linux/selfexe"
	"github.com/berth-project/berth/internal/runtime/hooks"
	"github.com/berth-project/berth/internal/runtime/initproc"
)

// CreateOptions are the flags of `create` (and `run`).
type CreateOptions struct {
	ID            string
	Bundle        string
	PidFile       string
	ConsoleSocket string
	NoPivot       bool
	NoNewKeyring  bool
	PreserveFds   int
	// Foreground: the caller stays the container's parent (`run` without
	// -d) and takes the pty master itself when there is no console socket.
	Foreground bool
}

// created is a container just created, with what a foreground caller needs.
type created struct {
	c       *Container
	sp      *spawn
	console *os.File // pty master, foreground with a terminal only
	unlock  func()
}

// Create creates a container whose process waits for Start.
func (r *Runtime) Create(o CreateOptions) error {
	cr, err := r.create(o)
	if err != nil {
		return err
	}
	cr.unlock()
	cr.sp.release()
	return nil
}

func (r *Runtime) create(o CreateOptions) (_ *created, err error) {
	if err := ValidateID(o.ID); err != nil {
		return nil, err
	}
	spec, bundle, rootfs, err := LoadBundle(o.Bundle)
	if err != nil {
		return nil, err
	}
	if err := r.checkConsole(spec, o); err != nil {
		return nil, err
	}
	if err := r.ensureRoot(); err != nil {
		return nil, err
	}
	var u undo
	defer func() {
		if err != nil {
			u.Run()
		}
	}()
	dir := filepath.Join(r.Root, o.ID)
	if err := os.Mkdir(dir, 0o711); err != nil {
		if errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("container %q already exists: %w", o.ID, errdefs.ErrAlreadyExists)
		}
		return nil, fmt.Errorf("create state directory %s: %w", dir, err)
	}
	u.push(func() { os.RemoveAll(dir) })
	unlock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	u.push(unlock)
	c := &Container{Dir: dir, State: State{
		OCIVersion: specs.Version, ID: o.ID, Bundle: bundle, Rootfs: rootfs,
		Annotations: spec.Annotations, Spec: spec, Rootless: r.Rootless,
		Owner: ownerName(),
	}}
	fifo := filepath.Join(dir, fifoName)
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		return nil, fmt.Errorf("create exec fifo: %w", err)
	}
	if err := os.Chmod(fifo, 0o622); err != nil {
		return nil, fmt.Errorf("chmod exec fifo: %w", err)
	}

	filter, err := r.compileSeccomp(spec)
	if err != nil {
		return nil, err
	}
	cg, err := cgroups.New(spec.Linux.CgroupsPath, o.ID, r.Rootless)
	if err != nil {
		return nil, err
	}

	sp, err := newSpawn(spec, o.PreserveFds, bundle)
	if err != nil {
		return nil, err
	}
	defer sp.closeChildEnds()
	u.push(sp.closeParentEnds)
	if err := sp.addSeccompAgent(filter); err != nil {
		return nil, err
	}
	var consoleLocal *os.File
	if spec.Process.Terminal {
		if o.ConsoleSocket != "" {
			f, err := dialConsole(o.ConsoleSocket)
			if err != nil {
				return nil, err
			}
			sp.addConsole(f)
		} else {
			local, remote, err := socketPair()
			if err != nil {
				return nil, err
			}
			consoleLocal = local
			u.push(func() { local.Close() })
			sp.addConsole(remote)
		}
	}
	// On cgroup v2 the init is born in its cgroup (CLONE_INTO_CGROUP): no
	// migration after the fact, and the limits hold from its first
	// instruction.
	intoCgroup := cgroups.HostMode() == cgroups.Unified && !r.Rootless
	if intoCgroup {
		u.push(func() { cg.Destroy() })
		if err := cg.Apply(-1); err != nil {
			return nil, err
		}
		if err := cg.Set(withDeviceRules(spec)); err != nil {
			return nil, err
		}
		fd, err := unix.Open(cg.Path(""), unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return nil, fmt.Errorf("open cgroup %s: %w", cg.Path(""), err)
		}
		defer unix.Close(fd)
		sp.cmd.SysProcAttr.UseCgroupFD = true
		sp.cmd.SysProcAttr.CgroupFD = fd
	}
	if err := sp.start(); err != nil {
		return nil, err
	}
	pid := sp.pid
	u.push(func() {
		sp.kill()
		cg.Destroy()
	})
	if !intoCgroup {
		if err := cg.Apply(pid); err != nil {
			return nil, err
		}
		if err := cg.Set(withDeviceRules(spec)); err != nil {
			return nil, err
		}
	}
	for _, w := range cg.Warnings() {
		r.warn("cgroup: %s", w)
	}
	start, _, err := procStat(pid)
	if err != nil {
		return nil, fmt.Errorf("container init exited early: %w", err)
	}
	c.State.Pid, c.State.PidStartTime = pid, start
	c.State.CgroupPaths = cg.Paths()
	c.State.Created = time.Now().UTC()

	if !hasNamespace(spec, specs.MountNamespace) {
		// The init mounts in our namespace, on a bind of the rootfs onto
		// itself: remember what was on top before, to undo exactly that.
		c.State.HostMounts, c.State.RootfsTopMount = true, mount.Top(rootfs)
		u.push(c.unmountHostMounts)
	}
	// Idmapped mounts are made here, where the privilege is, now that the
	// init's user namespace exists; the init asks for them (MsgMounts).
	if sp.idmapped, err = makeIDMapped(spec, bundle, pid); err != nil {
		return nil, err
	}
	u.push(func() { closeIDMapped(sp.idmapped) })
	cfg := initproc.Config{
		Spec: spec, Process: spec.Process, Rootfs: rootfs, FifoPath: fifo,
		NoPivot: o.NoPivot, NoNewKeyring: o.NoNewKeyring, PreserveFds: o.PreserveFds,
		HostMounts: c.State.HostMounts, NewCgroupNS: sp.newNS(specs.CgroupNamespace), NewTimeNS: sp.newNS(specs.TimeNamespace) && sp.childUnshare&unix.CLONE_NEWTIME == 0, UserNS: sp.newNS(specs.UserNamespace) || namespacePath(spec, specs.UserNamespace) != "",
		NewUTS: hasNamespace(spec, specs.UTSNamespace), CgroupPaths: c.State.CgroupPaths,
		HookHandshake: spec.Hooks != nil && len(spec.Hooks.Prestart)+len(spec.Hooks.CreateRuntime) > 0,
		State:         *c.specState(Creating),
		Seccomp:       filter,
		Pid:           pid,
	}
	err = sp.handshake(&cfg, func() error {
		st := c.specState(Creating)
		if err := hooks.Run("prestart", spec.Hooks.Prestart, st); err != nil {
			return err
		}
		return hooks.Run("createRuntime", spec.Hooks.CreateRuntime, st)
	})
	if err != nil {
		return nil, err
	}
	var master *os.File
	if consoleLocal != nil {
		master, err = pty.RecvFd(consoleLocal)
		consoleLocal.Close()
		if err != nil {
			return nil, err
		}
	}
	if err := c.save(); err != nil {
		return nil, err
	}
	if o.PidFile != "" {
		if err := writePidFile(o.PidFile, pid); err != nil {
			return nil, err
		}
	}
	sp.closeParentEnds()
	u.Release()
	return &created{c: c, sp: sp, console: master, unlock: unlock}, nil
}

// compileSeccomp compiles the spec's seccomp section (nil when it has none)
// here, so that the init only installs it. Unknown syscalls are skipped,
// as runc does, with a debug message.
func (r *Runtime) compileSeccomp(spec *specs.Spec) (*seccomp.Filter, error) {
	if spec.Linux == nil || spec.Linux.Seccomp == nil {
		return nil, nil
	}
	f, warnings, err := seccomp.Compile(spec.Linux.Seccomp)
	if err != nil {
		return nil, fmt.Errorf("linux.seccomp: %w", err)
	}
	for _, w := range warnings {
		r.debug("seccomp: %s", w)
	}
	return f, nil
}

func (r *Runtime) checkConsole(spec *specs.Spec, o CreateOptions) error {
	switch {
	case spec.Process.Terminal && o.ConsoleSocket == "" && !o.Foreground:
		return fmt.Errorf("process.terminal is true: --console-socket is required when detached: %w", errdefs.ErrInvalidArgument)
	case !spec.Process.Terminal && o.ConsoleSocket != "":
		return fmt.Errorf("--console-socket given but process.terminal is false: %w", errdefs.ErrInvalidArgument)
	}
	return nil
}

func dialConsole(path string) (*os.File, error) {
	conn, err := net.Dial("unix", path)
	if err != nil {
		return nil, fmt.Errorf("console socket %s: %w", path, err)
	}
	defer conn.Close()
	f, err := conn.(*net.UnixConn).File()
	if err != nil {
		return nil, fmt.Errorf("console socket %s: %w", path, err)
	}
	return f, nil
}

func socketPair() (*os.File, *os.File, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("socketpair: %w", err)
	}
	return os.NewFile(uintptr(fds[0]), "parent"), os.NewFile(uintptr(fds[1]), "child"), nil
}

func writePidFile(path string, pid int) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	return writeFileAtomic(abs, []byte(strconv.Itoa(pid)), 0o644)
}

func ownerName() string {
	if os.Geteuid() == 0 {
		return ""
	}
	return strconv.Itoa(os.Geteuid())
}

// withDeviceRules returns the spec's resources with an allow rule for each
// device of linux.devices appended (the cgroups layer adds the default
// devices' rules itself), as runc does.
func withDeviceRules(spec *specs.Spec) *specs.LinuxResources {
	res := specs.LinuxResources{}
	if spec.Linux.Resources != nil {
		res = *spec.Linux.Resources
	}
	rules := append([]specs.LinuxDeviceCgroup(nil), res.Devices...)
	for _, d := range spec.Linux.Devices {
		t := d.Type
		if t == "u" {
			t = "c"
		}
		if t == "p" {
			continue
		}
		major, minor := d.Major, d.Minor
		rules = append(rules, specs.LinuxDeviceCgroup{Allow: true, Type: t, Major: &major, Minor: &minor, Access: "rwm"})
	}
	res.Devices = rules
	return &res
}

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
