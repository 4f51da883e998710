// Package criu drives CRIU (Checkpoint/Restore In Userspace) through its RPC,
// as runc does: one `criu swrk FD` child per request, a SOCK_SEQPACKET socket
// pair between us, and go-criu's protobuf messages on it. Running swrk
// ourselves (rather than through go-criu's Criu type) lets the caller choose
// the child's stdio and extra files, which the restored process inherits
// (inherit-fd), and learn its pid before CRIU forks the restored tree, to put
// it in the container's cgroups.
//
// A dump, in short:
//
//	c := criu.Client{Path: "criu"}
//	resp, err := c.Do(rpc.CriuReqType_DUMP, &rpc.CriuOpts{Pid: proto.Int32(pid), ImagesDirFd: …}, nil)
//
// On failure the error carries CRIU's own message; the details are in the
// log file named by CriuOpts.LogFile in the work directory (see LogErrors).
package criu

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"

	"github.com/checkpoint-restore/go-criu/v7/rpc"
	"golang.org/x/sys/unix"
	"google.golang.org/protobuf/proto"
)

// Client runs requests against one CRIU binary.
type Client struct {
	Path string // the criu binary (a name is looked up on PATH)
	// Stdio are the swrk child's stdin, stdout and stderr (nil: /dev/null);
	// ExtraFiles follow as fds 3, 4, … (for inherit-fd).
	Stdio      [3]*os.File
	ExtraFiles []*os.File
	// Started, when set, is called with the swrk child's pid before the
	// request is sent.
	Started func(pid int) error
}

// Notify answers a CRIU notification ("pre-dump", "post-restore", …; pid
// is set for "post-restore" and "setup-namespaces"); an error aborts the
// request.
type Notify func(script string, pid int32) error

// maxMessage bounds one RPC message (runc uses the same size).
const maxMessage = 10 * 4096

// LookPath finds the criu binary, with an error that says how to fix it.
func LookPath(path string) (string, error) {
	p, err := exec.LookPath(path)
	if err != nil {
		return "", fmt.Errorf("criu binary %q not found (install criu or pass --criu PATH): %w", path, err)
	}
	return p, nil
}

// Do sends one request (opts may be nil for VERSION) and answers
// notifications until CRIU replies to it.
func (c *Client) Do(typ rpc.CriuReqType, opts *rpc.CriuOpts, notify Notify) (*rpc.CriuResp, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("criu: socketpair: %w", err)
	}
	local := os.NewFile(uintptr(fds[0]), "criu-client")
	remote := os.NewFile(uintptr(fds[1]), "criu-server")
	defer local.Close()
	cmd := exec.Command(c.Path, "swrk", strconv.Itoa(3+len(c.ExtraFiles)))
	cmd.Stdin, cmd.Stdout, cmd.Stderr = c.Stdio[0], c.Stdio[1], c.Stdio[2]
	cmd.ExtraFiles = append(append([]*os.File(nil), c.ExtraFiles...), remote)
	err = cmd.Start()
	remote.Close()
	if err != nil {
		return nil, fmt.Errorf("start %s swrk: %w", c.Path, err)
	}
	resp, err := c.converse(cmd, local, typ, opts, notify)
	local.Close() // swrk exits when the socket closes
	if werr := cmd.Wait(); werr != nil && err == nil {
		err = fmt.Errorf("%s swrk: %w", c.Path, werr)
	}
	return resp, err
}

func (c *Client) converse(cmd *exec.Cmd, sock *os.File, typ rpc.CriuReqType, opts *rpc.CriuOpts, notify Notify) (*rpc.CriuResp, error) {
	if c.Started != nil {
		if err := c.Started(cmd.Process.Pid); err != nil {
			_ = cmd.Process.Kill()
			return nil, err
		}
	}
	if notify != nil && opts != nil {
		opts.NotifyScripts = proto.Bool(true)
	}
	req := &rpc.CriuReq{Type: typ.Enum(), Opts: opts}
	buf := make([]byte, maxMessage)
	for {
		out, err := proto.Marshal(req)
		if err != nil {
			return nil, fmt.Errorf("criu: encode %s request: %w", req.GetType(), err)
		}
		if _, err := sock.Write(out); err != nil {
			return nil, fmt.Errorf("criu: send %s request: %w", req.GetType(), err)
		}
		n, err := sock.Read(buf)
		if err != nil {
			return nil, fmt.Errorf("criu: no reply to %s (criu exited?): %w", typ, err)
		}
		resp := &rpc.CriuResp{}
		if err := proto.Unmarshal(buf[:n], resp); err != nil {
			return nil, fmt.Errorf("criu: decode reply to %s: %w", typ, err)
		}
		if !resp.GetSuccess() {
			return resp, &Error{Type: typ, Msg: resp.GetCrErrmsg(), Errno: resp.GetCrErrno()}
		}
		if resp.GetType() != rpc.CriuReqType_NOTIFY {
			if resp.GetType() != typ {
				return resp, fmt.Errorf("criu: reply of type %s to a %s request", resp.GetType(), typ)
			}
			return resp, nil
		}
		if notify == nil {
			return resp, errors.New("criu: unexpected notification")
		}
		nf := resp.GetNotify()
		if err := notify(nf.GetScript(), nf.GetPid()); err != nil {
			return resp, fmt.Errorf("criu %s notification: %w", nf.GetScript(), err)
		}
		req = &rpc.CriuReq{Type: rpc.CriuReqType_NOTIFY.Enum(), NotifySuccess: proto.Bool(true)}
	}
}

// Error is a request CRIU answered with failure.
type Error struct {
	Type  rpc.CriuReqType
	Msg   string
	Errno int32
}

func (e *Error) Error() string {
	s := fmt.Sprintf("criu %s failed", strings.ToLower(e.Type.String()))
	if e.Msg != "" {
		s += ": " + e.Msg
	}
	if e.Errno != 0 {
		s += ": " + unix.Errno(e.Errno).Error()
	}
	return s
}

// Version asks CRIU for its version, e.g. "3.17.1".
func (c *Client) Version() (string, error) {
	resp, err := c.Do(rpc.CriuReqType_VERSION, nil, nil)
	if err != nil {
		return "", err
	}
	v := resp.GetVersion()
	return fmt.Sprintf("%d.%d.%d", v.GetMajorNumber(), v.GetMinorNumber(), v.GetSublevel()), nil
}
