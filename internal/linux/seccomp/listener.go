package seccomp

import (
	"encoding/json"
	"fmt"
	"net"
	"os"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// ProcessState builds the message SendListener sends: the runtime-spec
// containerProcessState, naming the one fd it carries "seccompFd".
func ProcessState(pid int, metadata string, state specs.State) ([]byte, error) {
	b, err := json.Marshal(specs.ContainerProcessState{
		Version:  specs.Version,
		Fds:      []string{specs.SeccompFdName},
		Pid:      pid,
		Metadata: metadata,
		State:    state,
	})
	if err != nil {
		return nil, fmt.Errorf("encode seccomp process state of container %q: %w", state.ID, err)
	}
	return b, nil
}

// SendListener connects to the seccomp agent's unix socket at listenerPath and
// sends state (see ProcessState) with the listener fd attached (SCM_RIGHTS),
// in one message as runc does. It does not close fd.
func SendListener(listenerPath string, fd int, state []byte) error {
	conn, err := DialListener(listenerPath)
	if err != nil {
		return err
	}
	defer conn.Close()
	return SendState(conn, listenerPath, fd, state)
}

// DialListener connects to the seccomp agent's unix socket at listenerPath.
// The runtime dials on the host, where the path means what the spec meant,
// and hands the connection to the init, which sends on it (SendState) once
// its filter is installed, long after pivot_root.
func DialListener(listenerPath string) (*os.File, error) {
	conn, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: listenerPath, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("connect to seccomp agent %s: %w", listenerPath, err)
	}
	defer conn.Close()
	f, err := conn.File()
	if err != nil {
		return nil, fmt.Errorf("connect to seccomp agent %s: %w", listenerPath, err)
	}
	return f, nil
}

// SendState sends state (see ProcessState) on conn, a connection to the
// seccomp agent at listenerPath, with the listener fd attached
// (SCM_RIGHTS), in one message as runc does. It does not close fd.
func SendState(conn *os.File, listenerPath string, fd int, state []byte) error {
	n, err := unix.SendmsgN(int(conn.Fd()), state, unix.UnixRights(fd), nil, 0)
	if err != nil {
		return fmt.Errorf("send seccomp listener fd to %s: %w", listenerPath, err)
	}
	if n < len(state) {
		if _, err := conn.Write(state[n:]); err != nil {
			return fmt.Errorf("send seccomp process state to %s: %w", listenerPath, err)
		}
	}
	return nil
}
