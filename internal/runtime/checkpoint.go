package runtime

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/checkpoint-restore/go-criu/v7/rpc"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
	"google.golang.org/protobuf/proto"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/runtime/criu"
)

// CheckpointOptions are the flags of `checkpoint` (as runc's).
type CheckpointOptions struct {
	Criu           string // the criu binary (--criu)
	ImagePath      string // where CRIU writes the images (default ./checkpoint)
	WorkPath       string // CRIU's log and work files (default ImagePath)
	LeaveRunning   bool   // keep the container running after the dump
	TCPEstablished bool   // dump established TCP connections
	FileLocks      bool   // dump file locks
	ExtUnixSk      bool   // allow unix sockets connected outside the container
	ShellJob       bool   // the process is a shell job (has a controlling tty outside)
}

// descriptorsFile records, beside the images, what the container's stdio
// pointed to (as runc does), so restore can hand over new ones (inherit-fd).
const descriptorsFile = "descriptors.json"

// dumpLog is CRIU's log of a dump, in the work directory.
const dumpLog = "dump.log"

// Checkpoint dumps a running (or paused) container with CRIU. Without
// LeaveRunning the container's processes end and the container is removed,
// as runc does, so that it can be restored under the same id. A failure
// leaves the container as it was: CRIU resumes what it froze.
func (r *Runtime) Checkpoint(id string, o CheckpointOptions) error {
	c, unlock, err := r.loadLocked(id)
	if err != nil {
		return err
	}
	defer unlock()
	if st := c.Status(); st != Running && st != Paused {
		return wrongState(c, "checkpoint", st)
	}
	bin, err := criu.LookPath(o.Criu)
	if err != nil {
		return fmt.Errorf("checkpoint container %q: %v: %w", id, err, errdefs.ErrFailedPrecondition)
	}
	imageDir, workDir, err := criuDirs(o.ImagePath, o.WorkPath)
	if err != nil {
		return fmt.Errorf("checkpoint container %q: %w", id, err)
	}
	images, err := openDir(imageDir)
	if err != nil {
		return fmt.Errorf("checkpoint container %q: %w", id, err)
	}
	defer images.Close()
	work, err := openDir(workDir)
	if err != nil {
		return fmt.Errorf("checkpoint container %q: %w", id, err)
	}
	defer work.Close()
	if err := saveDescriptors(c.State.Pid, imageDir); err != nil {
		return fmt.Errorf("checkpoint container %q: %w", id, err)
	}
	opts := &rpc.CriuOpts{
		Pid:             proto.Int32(int32(c.State.Pid)),
		ImagesDirFd:     proto.Int32(int32(images.Fd())),
		WorkDirFd:       proto.Int32(int32(work.Fd())),
		LogLevel:        proto.Int32(4),
		LogFile:         proto.String(dumpLog),
		Root:            proto.String(c.State.Rootfs),
		ManageCgroups:   proto.Bool(true),
		OrphanPtsMaster: proto.Bool(true),
		LeaveRunning:    proto.Bool(o.LeaveRunning),
		TcpEstablished:  proto.Bool(o.TCPEstablished),
		ExtUnixSk:       proto.Bool(o.ExtUnixSk),
		ShellJob:        proto.Bool(o.ShellJob),
		FileLocks:       proto.Bool(o.FileLocks),
		ExtMnt:          dumpExtMounts(c),
		External:        externalNamespaces(c.State.Spec),
	}
	if m, err := c.cgroupManager(); err == nil && m != nil {
		if p := m.Path("freezer"); p != "" {
			opts.FreezeCgroup = proto.String(p)
		}
	}
	client := criu.Client{Path: bin}
	if _, err := client.Do(rpc.CriuReqType_DUMP, opts, nil); err != nil {
		return fmt.Errorf("checkpoint container %q: %w", id, criuFailure(err, filepath.Join(workDir, dumpLog)))
	}
	if o.LeaveRunning {
		return nil
	}
	c.killAndWait()
	return r.destroy(c)
}

// criuDirs resolves the image and work directories, creating them.
func criuDirs(imagePath, workPath string) (string, string, error) {
	if imagePath == "" {
		imagePath = "checkpoint"
	}
	imageDir, err := filepath.Abs(imagePath)
	if err != nil {
		return "", "", fmt.Errorf("--image-path %s: %w", imagePath, err)
	}
	workDir := imageDir
	if workPath != "" {
		if workDir, err = filepath.Abs(workPath); err != nil {
			return "", "", fmt.Errorf("--work-path %s: %w", workPath, err)
		}
	}
	for _, d := range []string{imageDir, workDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return "", "", fmt.Errorf("create %s: %w", d, err)
		}
	}
	return imageDir, workDir, nil
}

func openDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(dir, os.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", dir, err)
	}
	return f, nil
}

// criuFailure adds the first errors of CRIU's log to a failed request.
func criuFailure(err error, logPath string) error {
	lines := criu.LogErrors(logPath, 3)
	if len(lines) == 0 {
		return fmt.Errorf("%w (log: %s)", err, logPath)
	}
	if hint := criu.Hint(lines); hint != "" {
		return fmt.Errorf("%w: %s (log: %s): %s", err, strings.Join(lines, "; "), logPath, hint)
	}
	return fmt.Errorf("%w: %s (log: %s)", err, strings.Join(lines, "; "), logPath)
}

// saveDescriptors records the targets of the init's fds 0-2.
func saveDescriptors(pid int, imageDir string) error {
	fds := make([]string, 3)
	for i := range fds {
		fds[i], _ = os.Readlink(fmt.Sprintf("/proc/%d/fd/%d", pid, i))
	}
	data, err := json.Marshal(fds)
	if err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(imageDir, descriptorsFile), data, 0o600)
}

// dumpExtMounts declares the container's bind mounts (and masked files,
// bound from /dev/null) external to CRIU, which cannot dump their source:
// on restore they are bound again from the (new) bundle's sources.
func dumpExtMounts(c *Container) []*rpc.ExtMountMap {
	var out []*rpc.ExtMountMap
	for _, m := range c.State.Spec.Mounts {
		if isBind(m) {
			out = append(out, &rpc.ExtMountMap{Key: proto.String(m.Destination), Val: proto.String(m.Destination)})
		}
	}
	if c.State.Spec.Linux != nil {
		for _, p := range c.State.Spec.Linux.MaskedPaths {
			fi, err := os.Stat(fmt.Sprintf("/proc/%d/root%s", c.State.Pid, p))
			if err == nil && !fi.IsDir() {
				out = append(out, &rpc.ExtMountMap{Key: proto.String(p), Val: proto.String(p)})
			}
		}
	}
	return out
}

func isBind(m specs.Mount) bool {
	if m.Type == "bind" {
		return true
	}
	for _, o := range m.Options {
		if o == "bind" || o == "rbind" {
			return true
		}
	}
	return false
}

// externalNamespaces declares a network namespace joined by path as
// external (runc's "extRootNetNS" key): restore joins the one it is given.
func externalNamespaces(spec *specs.Spec) []string {
	path := namespacePath(spec, specs.NetworkNamespace)
	if path == "" {
		return nil
	}
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return nil
	}
	return []string{fmt.Sprintf("net[%d]:%s", st.Ino, extNetNSKey)}
}

const extNetNSKey = "extRootNetNS"
