package seccomp

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"syscall"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// The tests that install a filter run it in a re-executed test binary: the
// filter cannot be removed, and some actions kill the process. The child runs
// the scenario named by childEnv, prints "key=value" lines, and exits.
const (
	childEnv = "BERTH_SECCOMP_CHILD"
	sockEnv  = "BERTH_SECCOMP_SOCK"
)

func TestMain(m *testing.M) {
	if name := os.Getenv(childEnv); name != "" {
		scenario, ok := scenarios[name]
		if !ok {
			fmt.Fprintf(os.Stderr, "unknown scenario %q\n", name)
			os.Exit(3)
		}
		scenario()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// install does what the runtime's init does before execve: lock the thread,
// set no_new_privs, install the filter. Failures end the child with status 3.
func install(s *specs.LinuxSeccomp) int {
	runtime.LockOSThread()
	// A SIGSYS kill must not leave a core file behind.
	must(unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{}))
	must(unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
	f, warnings, err := Compile(s)
	must(err)
	for _, w := range warnings {
		fmt.Printf("warning=%s\n", w)
	}
	fd, err := f.Install()
	must(err)
	fmt.Printf("installed=%d\n", f.Len())
	return fd
}

func must(err error) {
	if err != nil {
		fmt.Printf("error=%v\n", err)
		os.Exit(3)
	}
}

// report prints the errno of a syscall's result (0 for success).
func report(key string, err error) {
	var errno syscall.Errno
	if err != nil && !errors.As(err, &errno) {
		fmt.Printf("%s=error %v\n", key, err)
		return
	}
	fmt.Printf("%s=%d\n", key, int(errno))
}

func rawErr(errno syscall.Errno) error {
	if errno == 0 {
		return nil
	}
	return errno
}

var scenarios = map[string]func(){
	"errno": func() {
		install(&specs.LinuxSeccomp{
			DefaultAction: specs.ActAllow,
			Flags:         []specs.LinuxSeccompFlag{specs.LinuxSeccompFlagLog, specs.LinuxSeccompFlagSpecAllow},
			Syscalls: []specs.LinuxSyscall{
				{Names: []string{"getcwd"}, Action: specs.ActErrno, ErrnoRet: uptr(uint(unix.EXDEV))},
				{Names: []string{"mkdirat"}, Action: specs.ActErrno, ErrnoRet: uptr(uint(unix.EROFS))},
				{Names: []string{"uname"}, Action: specs.ActErrno},
			},
		})
		_, err := unix.Getcwd(make([]byte, 4096))
		report("getcwd", err)
		report("mkdirat", unix.Mkdirat(unix.AT_FDCWD, "/nonexistent/berth", 0o700))
		report("uname", unix.Uname(&unix.Utsname{}))
		_, _, e := unix.RawSyscall(unix.SYS_GETPID, 0, 0, 0)
		report("getpid", rawErr(e))
	},
	"args": func() {
		install(&specs.LinuxSeccomp{
			DefaultAction: specs.ActAllow,
			Syscalls: []specs.LinuxSyscall{
				{Names: []string{"personality"}, Action: specs.ActErrno, ErrnoRet: uptr(uint(unix.ENOKEY)),
					Args: []specs.LinuxSeccompArg{{Index: 0, Value: 0xffffffff, Op: specs.OpEqualTo}}},
				{Names: []string{"socket"}, Action: specs.ActErrno, ErrnoRet: uptr(uint(unix.EXDEV)),
					Args: []specs.LinuxSeccompArg{{Index: 1, Value: 0xf, ValueTwo: unix.SOCK_DGRAM, Op: specs.OpMaskedEqual}}},
				{Names: []string{"lseek"}, Action: specs.ActErrno, ErrnoRet: uptr(uint(unix.EROFS)),
					Args: []specs.LinuxSeccompArg{
						{Index: 1, Value: 0x100000000, Op: specs.OpGreaterThan},
						{Index: 2, Value: unix.SEEK_SET, Op: specs.OpEqualTo},
					}},
			},
		})
		_, _, e := unix.RawSyscall(unix.SYS_PERSONALITY, 0xffffffff, 0, 0)
		report("personality_query", rawErr(e))
		_, _, e = unix.RawSyscall(unix.SYS_PERSONALITY, 0, 0, 0)
		report("personality_linux", rawErr(e))
		for key, typ := range map[string]int{"socket_dgram": unix.SOCK_DGRAM, "socket_stream": unix.SOCK_STREAM} {
			fd, err := unix.Socket(unix.AF_INET, typ|unix.SOCK_CLOEXEC, 0)
			report(key, err)
			if err == nil {
				unix.Close(fd)
			}
		}
		fd, err := unix.Open("/proc/self/exe", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		must(err)
		_, err = unix.Seek(fd, 0x200000000, unix.SEEK_SET)
		report("lseek_far_set", err)
		_, err = unix.Seek(fd, 0x100000000, unix.SEEK_SET)
		report("lseek_near_set", err)
		_, err = unix.Seek(fd, 0x200000000, unix.SEEK_CUR)
		report("lseek_far_cur", err)
	},
	"whitelist": func() {
		s := &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, DefaultErrnoRet: uptr(uint(unix.EACCES))}
		for name := range syscallsX86_64 {
			if name != "getcwd" && name != "uname" {
				s.Syscalls = append(s.Syscalls, specs.LinuxSyscall{Names: []string{name}, Action: specs.ActAllow})
			}
		}
		install(s)
		_, err := unix.Getcwd(make([]byte, 4096))
		report("getcwd", err)
		report("uname", unix.Uname(&unix.Utsname{}))
		_, _, e := unix.RawSyscall(unix.SYS_GETPID, 0, 0, 0)
		report("getpid", rawErr(e))
		// A number above the table's highest: ENOSYS, not the default EACCES.
		_, _, e = unix.RawSyscall(999, 0, 0, 0)
		report("nr999", rawErr(e))
	},
	"kill": func() {
		install(&specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{
			{Names: []string{"getppid"}, Action: specs.ActKillProcess},
		}})
		unix.RawSyscall(unix.SYS_GETPPID, 0, 0, 0)
		fmt.Println("survived=1")
	},
	"trap": func() {
		install(&specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{
			{Names: []string{"getppid"}, Action: specs.ActTrap},
		}})
		// The Go runtime turns a seccomp SIGSYS into a fatal "bad system call".
		unix.RawSyscall(unix.SYS_GETPPID, 0, 0, 0)
		fmt.Println("survived=1")
	},
	"log": func() {
		install(&specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{
			{Names: []string{"getppid"}, Action: specs.ActLog},
		}})
		ppid, _, e := unix.RawSyscall(unix.SYS_GETPPID, 0, 0, 0)
		report("getppid_errno", rawErr(e))
		fmt.Printf("getppid=%d\n", ppid)
	},
	"notify": func() {
		fd := install(&specs.LinuxSeccomp{
			DefaultAction: specs.ActAllow,
			Flags:         []specs.LinuxSeccompFlag{flagTSync, specs.LinuxSeccompFlagWaitKillableRecv},
			Syscalls: []specs.LinuxSyscall{
				{Names: []string{"getppid"}, Action: specs.ActNotify},
			},
		})
		fmt.Printf("listener=%d\n", fd)
		state, err := ProcessState(os.Getpid(), "berth-meta", specs.State{
			Version: specs.Version, ID: "seccomp-test", Status: specs.StateCreating, Pid: os.Getpid(), Bundle: "/",
		})
		must(err)
		must(SendListener(os.Getenv(sockEnv), fd, state))
		must(unix.Close(fd))
		_, _, e := unix.RawSyscall(unix.SYS_GETPPID, 0, 0, 0)
		report("getppid", rawErr(e))
	},
	"docker": func() {
		install(DefaultProfile(dockerCaps))
		report("unshare", unix.Unshare(unix.CLONE_NEWNS))
		// An unknown filesystem type: ENODEV if mount(2) were let through.
		report("mount", unix.Mount("none", "/", "berth-no-such-fs", 0, ""))
		must(syscall.Exec("/bin/sh", []string{"sh", "-c",
			`grep '^Seccomp:' /proc/self/status; /bin/true && echo true=ok; ` +
				`unshare -m true 2>/dev/null && echo unshare-shell=allowed || echo unshare-shell=denied`}, os.Environ()))
	},
}

// dockerCaps is Docker's default capability set (no CAP_SYS_ADMIN).
var dockerCaps = []string{"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD",
	"CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
	"CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE"}
