package initproc

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/runtime/hooks"
)

func init() {
	// The init sets up namespaces, credentials and seccomp for the thread
	// that will execve: keep main on one OS thread for its whole life.
	if len(os.Args) > 1 && os.Args[1] == "init" {
		runtime.LockOSThread()
	}
}

// Main is the entry point of `berth-runtime init`. It never returns: it execs
// the container's process or exits non-zero after reporting the error to
// the parent.
func Main() {
	// Not dumpable until execve: a container process cannot open
	// /proc/<init>/exe (or its fds) while the runtime binary runs in it.
	_ = unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0)
	sync, err := fdFromEnv(EnvSyncFd, "sync")
	if err != nil {
		fmt.Fprintln(os.Stderr, "berth-runtime init:", err)
		os.Exit(1)
	}
	ch := &channel{f: sync, dec: json.NewDecoder(sync), enc: json.NewEncoder(sync)}
	if err := run(ch); err != nil {
		// Before "ready" the runtime reports the error; after it (the
		// runtime may be gone) the container's stderr is the only place.
		if ch.send(Message{Type: MsgError, Msg: err.Error()}) != nil {
			fmt.Fprintln(os.Stderr, "berth-runtime init:", err)
		}
		os.Exit(1)
	}
	panic("unreachable")
}

func fdFromEnv(name, what string) (*os.File, error) {
	v := os.Getenv(name)
	if v == "" {
		return nil, fmt.Errorf("no %s fd ($%s): run by berth-runtime only", what, name)
	}
	fd, err := strconv.Atoi(v)
	if err != nil {
		return nil, fmt.Errorf("bad %s fd %q: %w", what, v, err)
	}
	_ = os.Unsetenv(name)
	unix.CloseOnExec(fd)
	return os.NewFile(uintptr(fd), what), nil
}

type channel struct {
	f   *os.File
	dec *json.Decoder
	enc *json.Encoder
}

func (c *channel) send(m Message) error { return c.enc.Encode(m) }

func (c *channel) expect(typ string) error {
	var m Message
	if err := c.dec.Decode(&m); err != nil {
		return fmt.Errorf("wait for %q from the runtime: %w", typ, err)
	}
	if m.Type != typ {
		return fmt.Errorf("expected %q from the runtime, got %q", typ, m.Type)
	}
	return nil
}

func run(ch *channel) error {
	var cfg Config
	if err := ch.dec.Decode(&cfg); err != nil {
		return fmt.Errorf("read config: %w", err)
	}
	if cfg.Spec == nil || cfg.Process == nil {
		return errors.New("config without spec or process")
	}
	var console *os.File
	if cfg.Process.Terminal {
		c, err := fdFromEnv(EnvConsoleFd, "console")
		if err != nil {
			return err
		}
		console = c
	}
	if cfg.Exec {
		return execProcess(ch, &cfg, console)
	}
	return initContainer(ch, &cfg, console)
}

// initContainer prepares a new container and execs its process once started.
func initContainer(ch *channel, cfg *Config, console *os.File) error {
	if cfg.NewCgroupNS {
		if err := unix.Unshare(unix.CLONE_NEWCGROUP); err != nil {
			return fmt.Errorf("unshare cgroup namespace: %w", err)
		}
	}
	if cfg.NewTimeNS {
		if err := unshareTime(cfg.Spec.Linux.TimeOffsets); err != nil {
			return err
		}
	}
	if !cfg.NoNewKeyring {
		// A session keyring of the container's own, so keys never leak in
		// from the host session. EACCES/ENOSYS: keyrings unavailable.
		if _, err := unix.KeyctlJoinSessionKeyring("_ses." + cfg.State.ID); err != nil &&
			!errors.Is(err, unix.ENOSYS) && !errors.Is(err, unix.EACCES) && !errors.Is(err, unix.EDQUOT) {
			return fmt.Errorf("join session keyring: %w", err)
		}
	}
	r, err := newRootfs(cfg)
	if err != nil {
		return err
	}
	if r.idmapped, err = ch.receiveIDMapped(cfg.Spec); err != nil {
		return err
	}
	if err := r.prepare(); err != nil {
		return err
	}
	if cfg.HookHandshake {
		if err := ch.send(Message{Type: MsgHooks}); err != nil {
			return err
		}
		if err := ch.expect(MsgHooksDone); err != nil {
			return err
		}
	}
	if h := cfg.Spec.Hooks; h != nil {
		st := cfg.State
		st.Status = "creating"
		if err := hooks.Run("createContainer", h.CreateContainer, &st); err != nil {
			return err
		}
	}
	fifo, err := openFifoPath(cfg.FifoPath)
	if err != nil {
		return err
	}
	if err := r.enter(); err != nil {
		return err
	}
	if err := r.finish(); err != nil {
		return err
	}
	if err := setIdentity(cfg); err != nil {
		return err
	}
	p, err := ch.ready(cfg, console, true)
	if err != nil {
		return err
	}
	if err := waitStart(fifo); err != nil {
		return err
	}
	if h := cfg.Spec.Hooks; h != nil {
		st := cfg.State
		st.Status = "created"
		if err := hooks.Run("startContainer", h.StartContainer, &st); err != nil {
			return err
		}
	}
	return p.exec()
}

// execProcess starts a new process in a running container.
func execProcess(ch *channel, cfg *Config, console *os.File) error {
	if cfg.JoinMnt != "" {
		if err := joinMount(cfg.JoinMnt); err != nil {
			return err
		}
	}
	p, err := ch.ready(cfg, console, false)
	if err != nil {
		return err
	}
	return p.exec()
}

// ready sets up the terminal and everything of the process that can fail
// (binary, limits, credentials), then tells the runtime and closes the
// channel: what fails after this reaches only the container's stderr.
func (ch *channel) ready(cfg *Config, console *os.File, devConsole bool) (*process, error) {
	if console != nil {
		if err := setupConsole(console, cfg.Process, devConsole); err != nil {
			return nil, err
		}
	}
	p, err := newProcess(cfg)
	if err != nil {
		return nil, err
	}
	if err := p.prepare(); err != nil {
		return nil, err
	}
	if err := ch.send(Message{Type: MsgReady}); err != nil {
		return nil, err
	}
	ch.f.Close()
	return p, nil
}

func joinMount(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open mount namespace: %w", err)
	}
	defer f.Close()
	if err := unix.Unshare(unix.CLONE_FS); err != nil {
		return fmt.Errorf("unshare fs: %w", err)
	}
	if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNS); err != nil {
		return fmt.Errorf("join mount namespace: %w", err)
	}
	return nil
}

// openFifoPath takes an O_PATH handle on the exec FIFO before pivot_root;
// it is opened for writing through /proc/self/fd once the container waits.
func openFifoPath(path string) (*os.File, error) {
	fd, err := unix.Open(path, unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open exec fifo %s: %w", path, err)
	}
	return os.NewFile(uintptr(fd), path), nil
}

// waitStart blocks until `start` opens the FIFO, then tells it we go.
func waitStart(fifo *os.File) error {
	fd, err := unix.Open("/proc/self/fd/"+strconv.Itoa(int(fifo.Fd())), unix.O_WRONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open exec fifo for writing: %w", err)
	}
	fifo.Close()
	if _, err := unix.Write(fd, []byte("0")); err != nil {
		return fmt.Errorf("write exec fifo: %w", err)
	}
	// fd stays open, close-on-exec: `start` sees the FIFO's end when the
	// process has been exec'd (or the init died), and only then runs the
	// poststart hooks.
	return nil
}

// setIdentity sets hostname and domainname.
func setIdentity(cfg *Config) error {
	s := cfg.Spec
	if s.Hostname != "" {
		if !cfg.NewUTS {
			return errors.New("cannot set hostname without a new UTS namespace")
		}
		if err := unix.Sethostname([]byte(s.Hostname)); err != nil {
			return fmt.Errorf("set hostname %q: %w", s.Hostname, err)
		}
	}
	if s.Domainname != "" {
		if !cfg.NewUTS {
			return errors.New("cannot set domainname without a new UTS namespace")
		}
		if err := unix.Setdomainname([]byte(s.Domainname)); err != nil {
			return fmt.Errorf("set domainname %q: %w", s.Domainname, err)
		}
	}
	return nil
}

// unshareTime makes a time namespace for the process: unshare(CLONE_NEWTIME)
// affects only what this thread execs (the kernel switches at execve), and
// the clock offsets must be written before any process enters it. The init
// runs on its main thread, so /proc/self names it.
func unshareTime(offsets map[string]specs.LinuxTimeOffset) error {
	if err := unix.Unshare(unix.CLONE_NEWTIME); err != nil {
		return fmt.Errorf("unshare time namespace: %w", err)
	}
	if len(offsets) == 0 {
		return nil
	}
	var b []byte
	for clock, o := range offsets {
		b = fmt.Appendf(b, "%s %d %d\n", clock, o.Secs, o.Nanosecs)
	}
	if err := os.WriteFile("/proc/self/timens_offsets", b, 0); err != nil {
		return fmt.Errorf("write time namespace offsets: %w", err)
	}
	return nil
}
