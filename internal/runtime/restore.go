package runtime

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/checkpoint-restore/go-criu/v7/rpc"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
	"google.golang.org/protobuf/proto"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/linux/cgroups"
	"github.com/berth-project/berth/internal/runtime/criu"
)

// RestoreOptions are the flags of `restore` (as runc's).
type RestoreOptions struct {
	Criu           string // the criu binary (--criu)
	Bundle         string // the bundle the container is restored from
	ImagePath      string // the images of a checkpoint (default ./checkpoint)
	WorkPath       string // CRIU's log and work files (default ImagePath)
	PidFile        string
	ConsoleSocket  string
	Detach         bool // return once restored; otherwise wait for it and delete it
	TCPEstablished bool
	FileLocks      bool
	ExtUnixSk      bool
	ShellJob       bool
}

// restoreLog is CRIU's log of a restore, in the work directory.
const restoreLog = "restore.log"

// Restore makes container id from a checkpoint's images and the bundle's
// config: CRIU recreates the process tree and its namespaces, the
// container's cgroups are ours (CRIU's swrk joins them before it forks the
// tree). Detached, it returns once the container runs; otherwise it waits
// for the restored init, deletes the container and returns its exit code.
func (r *Runtime) Restore(id string, o RestoreOptions) (code int, err error) {
	if err := ValidateID(id); err != nil {
		return 0, err
	}
	bin, err := criu.LookPath(o.Criu)
	if err != nil {
		return 0, fmt.Errorf("restore container %q: %v: %w", id, err, errdefs.ErrFailedPrecondition)
	}
	spec, bundle, rootfs, err := LoadBundle(o.Bundle)
	if err != nil {
		return 0, err
	}
	if spec.Process.Terminal {
		return 0, fmt.Errorf("restore container %q: process.terminal is true: restoring a terminal (--console-socket) is not supported yet: %w", id, errdefs.ErrNotImplemented)
	}
	if o.ConsoleSocket != "" {
		return 0, fmt.Errorf("--console-socket given but process.terminal is false: %w", errdefs.ErrInvalidArgument)
	}
	imageDir, workDir, err := restoreDirs(o.ImagePath, o.WorkPath)
	if err != nil {
		return 0, fmt.Errorf("restore container %q: %w", id, err)
	}
	if err := r.ensureRoot(); err != nil {
		return 0, err
	}
	var u undo
	defer func() {
		if err != nil {
			u.Run()
		}
	}()
	dir := filepath.Join(r.Root, id)
	if err := os.Mkdir(dir, 0o711); err != nil {
		if errors.Is(err, os.ErrExist) {
			return 0, fmt.Errorf("container %q already exists: %w", id, errdefs.ErrAlreadyExists)
		}
		return 0, fmt.Errorf("create state directory %s: %w", dir, err)
	}
	root := filepath.Join(dir, "criu-root")
	u.push(func() {
		// never recurse into a rootfs still bound here
		if unmountCriuRoot(root) == nil {
			os.RemoveAll(dir)
		}
	})
	unlock, err := lockDir(dir)
	if err != nil {
		return 0, err
	}
	defer func() { unlock() }()
	cg, err := cgroups.New(spec.Linux.CgroupsPath, id, r.Rootless)
	if err != nil {
		return 0, err
	}
	u.push(func() { cg.Destroy() })
	if err := bindCriuRoot(root, rootfs); err != nil {
		return 0, fmt.Errorf("restore container %q: %w", id, err)
	}
	defer func() { _ = unmountCriuRoot(root) }()
	client, inherit, err := restoreClient(bin, spec, imageDir)
	if err != nil {
		return 0, fmt.Errorf("restore container %q: %w", id, err)
	}
	defer closeFiles(client.ExtraFiles)
	client.Started = func(pid int) error { return cg.Apply(pid) }
	images, err := openDir(imageDir)
	if err != nil {
		return 0, fmt.Errorf("restore container %q: %w", id, err)
	}
	defer images.Close()
	work, err := openDir(workDir)
	if err != nil {
		return 0, fmt.Errorf("restore container %q: %w", id, err)
	}
	defer work.Close()
	opts := &rpc.CriuOpts{
		ImagesDirFd:       proto.Int32(int32(images.Fd())),
		WorkDirFd:         proto.Int32(int32(work.Fd())),
		LogLevel:          proto.Int32(4),
		LogFile:           proto.String(restoreLog),
		Root:              proto.String(root),
		ManageCgroups:     proto.Bool(true),
		ManageCgroupsMode: rpc.CriuCgMode_SOFT.Enum(),
		RstSibling:        proto.Bool(true),
		OrphanPtsMaster:   proto.Bool(true),
		TcpEstablished:    proto.Bool(o.TCPEstablished),
		FileLocks:         proto.Bool(o.FileLocks),
		ExtUnixSk:         proto.Bool(o.ExtUnixSk),
		ShellJob:          proto.Bool(o.ShellJob),
		ExtMnt:            restoreExtMounts(spec, bundle),
		InheritFd:         inherit,
	}
	resp, err := client.Do(rpc.CriuReqType_RESTORE, opts, nil)
	if err != nil {
		return 0, fmt.Errorf("restore container %q: %w", id, criuFailure(err, filepath.Join(workDir, restoreLog)))
	}
	pid := int(resp.GetRestore().GetPid())
	u.push(func() {
		_ = unix.Kill(pid, unix.SIGKILL)
		_, _ = unix.Wait4(pid, nil, 0, nil)
	})
	// The restored tree has its own mount namespace: the bind is no longer
	// needed, and must be gone before the state directory is ever removed.
	if err := unmountCriuRoot(root); err != nil {
		return 0, err
	}
	if err := cg.Set(withDeviceRules(spec)); err != nil {
		return 0, err
	}
	start, _, err := procStat(pid)
	if err != nil {
		return 0, fmt.Errorf("restore container %q: restored init %d exited early: %w", id, pid, err)
	}
	c := &Container{Dir: dir, State: State{
		OCIVersion: specs.Version, ID: id, Pid: pid, PidStartTime: start,
		Bundle: bundle, Rootfs: rootfs, Created: time.Now().UTC(), Owner: ownerName(),
		Annotations: spec.Annotations, CgroupPaths: cg.Paths(), Rootless: r.Rootless, Spec: spec,
	}}
	if err := c.save(); err != nil {
		return 0, err
	}
	if o.PidFile != "" {
		if err := writePidFile(o.PidFile, pid); err != nil {
			return 0, err
		}
	}
	u.Release()
	if o.Detach {
		return 0, nil
	}
	unlock()
	unlock = func() {}
	return r.waitAndDelete(id, pid), nil
}

// waitAndDelete waits for a restored init (our child: CRIU restores it as
// its sibling) and deletes its container.
func (r *Runtime) waitAndDelete(id string, pid int) int {
	var ws unix.WaitStatus
	for {
		_, err := unix.Wait4(pid, &ws, 0, nil)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	code := ws.ExitStatus()
	if ws.Signaled() {
		code = 128 + int(ws.Signal())
	}
	if err := r.Delete(id, true); err != nil {
		r.warn("%v", err)
	}
	return code
}

// restoreDirs resolves the image directory (which must exist) and the work
// directory (created).
func restoreDirs(imagePath, workPath string) (string, string, error) {
	if imagePath == "" {
		imagePath = "checkpoint"
	}
	imageDir, err := filepath.Abs(imagePath)
	if err != nil {
		return "", "", fmt.Errorf("--image-path %s: %w", imagePath, err)
	}
	if fi, err := os.Stat(imageDir); err != nil || !fi.IsDir() {
		return "", "", fmt.Errorf("--image-path %s: no checkpoint there: %w", imageDir, errdefs.ErrInvalidArgument)
	}
	workDir := imageDir
	if workPath != "" {
		if workDir, err = filepath.Abs(workPath); err != nil {
			return "", "", fmt.Errorf("--work-path %s: %w", workPath, err)
		}
		if err := os.MkdirAll(workDir, 0o700); err != nil {
			return "", "", fmt.Errorf("create %s: %w", workDir, err)
		}
	}
	return imageDir, workDir, nil
}

// bindCriuRoot binds the rootfs on root, in the state directory, for CRIU
// to restore the mount namespace onto (runc's criu-root).
func bindCriuRoot(root, rootfs string) error {
	if err := os.Mkdir(root, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", root, err)
	}
	if err := unix.Mount(rootfs, root, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("bind %s on %s: %w", rootfs, root, err)
	}
	return nil
}

// unmountCriuRoot detaches and removes root; an error means it may still
// show the rootfs.
func unmountCriuRoot(root string) error {
	_ = unix.Unmount(root, unix.MNT_DETACH)
	if err := os.Remove(root); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove %s: %w", root, err)
	}
	return nil
}

// restoreClient gives CRIU our stdio in place of the checkpointed pipes and
// sockets (inherit-fd) and a network namespace joined by path.
func restoreClient(bin string, spec *specs.Spec, imageDir string) (*criu.Client, []*rpc.InheritFd, error) {
	c := &criu.Client{Path: bin, Stdio: [3]*os.File{os.Stdin, os.Stdout, os.Stderr}}
	var inherit []*rpc.InheritFd
	data, err := os.ReadFile(filepath.Join(imageDir, descriptorsFile))
	if err != nil {
		return nil, nil, fmt.Errorf("read %s of the checkpoint: %w", descriptorsFile, err)
	}
	var fds []string
	if err := json.Unmarshal(data, &fds); err != nil {
		return nil, nil, fmt.Errorf("parse %s of the checkpoint: %w", descriptorsFile, err)
	}
	for i, link := range fds {
		if i < 3 && (strings.HasPrefix(link, "pipe:") || strings.HasPrefix(link, "socket:")) {
			inherit = append(inherit, &rpc.InheritFd{Key: proto.String(link), Fd: proto.Int32(int32(i))})
		}
	}
	if path := namespacePath(spec, specs.NetworkNamespace); path != "" {
		f, err := os.Open(path)
		if err != nil {
			return nil, nil, fmt.Errorf("network namespace %s: %w", path, err)
		}
		c.ExtraFiles = append(c.ExtraFiles, f)
		inherit = append(inherit, &rpc.InheritFd{Key: proto.String(extNetNSKey), Fd: proto.Int32(int32(2 + len(c.ExtraFiles)))})
	}
	return c, inherit, nil
}

func closeFiles(fs []*os.File) {
	for _, f := range fs {
		f.Close()
	}
}

// restoreExtMounts maps the external mounts of the dump (dumpExtMounts) to
// their sources in this bundle.
func restoreExtMounts(spec *specs.Spec, bundle string) []*rpc.ExtMountMap {
	var out []*rpc.ExtMountMap
	for _, m := range spec.Mounts {
		if !isBind(m) {
			continue
		}
		src := m.Source
		if !filepath.IsAbs(src) {
			src = filepath.Join(bundle, src)
		}
		out = append(out, &rpc.ExtMountMap{Key: proto.String(m.Destination), Val: proto.String(src)})
	}
	if spec.Linux != nil {
		for _, p := range spec.Linux.MaskedPaths {
			out = append(out, &rpc.ExtMountMap{Key: proto.String(p), Val: proto.String("/dev/null")})
		}
	}
	return out
}
