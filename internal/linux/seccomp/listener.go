package seccomp

import (
	"encoding/json"
	"fmt"
	"net"

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
	conn, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: listenerPath, Net: "unix"})
	if err != nil {
		return fmt.Errorf("connect to seccomp agent %s: %w", listenerPath, err)
	}
	defer conn.Close()
	n, _, err := conn.WriteMsgUnix(state, unix.UnixRights(fd), nil)
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
