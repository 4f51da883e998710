package runtime

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/errdefs"
)

// Status is a container's lifecycle state (runtime-spec "status").
type Status string

// The statuses.
const (
	Creating Status = "creating"
	Created  Status = "created"
	Running  Status = "running"
	Stopped  Status = "stopped"
	Paused   Status = "paused"
)

const (
	stateFile = "state.json"
	fifoName  = "exec.fifo"
	// MaxIDLength keeps the state directory name within NAME_MAX.
	MaxIDLength = 255
)

var idPattern = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_+.-]*$`)

// ValidateID checks a container id: letters, digits and _+.- only (so no
// '/' and no "..": it names a directory), at most MaxIDLength bytes.
func ValidateID(id string) error {
	switch {
	case id == "":
		return fmt.Errorf("container id is empty: %w", errdefs.ErrInvalidArgument)
	case len(id) > MaxIDLength:
		return fmt.Errorf("container id %.20q… is %d bytes long, more than %d: %w", id, len(id), MaxIDLength, errdefs.ErrInvalidArgument)
	case !idPattern.MatchString(id) || strings.Contains(id, ".."):
		return fmt.Errorf("container id %q is invalid: use letters, digits and _+.- only: %w", id, errdefs.ErrInvalidArgument)
	}
	return nil
}

// State is what state.json records of a container.
type State struct {
	OCIVersion   string            `json:"ociVersion"`
	ID           string            `json:"id"`
	Pid          int               `json:"pid"`
	PidStartTime uint64            `json:"pidStartTime"`
	Bundle       string            `json:"bundle"`
	Rootfs       string            `json:"rootfs"`
	Created      time.Time         `json:"created"`
	Owner        string            `json:"owner"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	CgroupPaths  map[string]string `json:"cgroupPaths,omitempty"`
	Rootless     bool              `json:"rootless,omitempty"`
	Spec         *specs.Spec       `json:"spec"`
	// HostMounts: no mount namespace of its own; its mounts, in the
	// runtime's namespace, hang off a bind of the rootfs on itself that
	// covers RootfsTopMount (the mount id on top of the rootfs before).
	HostMounts     bool `json:"hostMounts,omitempty"`
	RootfsTopMount int  `json:"rootfsTopMount,omitempty"`
}

// Container is a loaded container: its directory and its recorded state.
type Container struct {
	Dir   string
	State State
}

// OCIState is the runtime-spec state of c (plus runc's rootfs, created and
// owner fields, which clients such as containerd read).
type OCIState struct {
	specs.State
	Rootfs  string    `json:"rootfs"`
	Created time.Time `json:"created"`
	Owner   string    `json:"owner"`
}

// OCI returns the state as `state` prints it.
func (c *Container) OCI() OCIState {
	st := c.Status()
	pid := c.State.Pid
	if st == Stopped {
		pid = 0
	}
	return OCIState{
		State: specs.State{
			Version: c.State.OCIVersion, ID: c.State.ID, Status: specs.ContainerState(st),
			Pid: pid, Bundle: c.State.Bundle, Annotations: c.State.Annotations,
		},
		Rootfs: c.State.Rootfs, Created: c.State.Created, Owner: c.State.Owner,
	}
}

// specState is the state handed to hooks.
func (c *Container) specState(st Status) *specs.State {
	return &specs.State{
		Version: specs.Version, ID: c.State.ID, Status: specs.ContainerState(st),
		Pid: c.State.Pid, Bundle: c.State.Bundle, Annotations: c.State.Annotations,
	}
}

// Status derives the container's status from the kernel.
func (c *Container) Status() Status {
	if c.State.Pid == 0 {
		return Creating
	}
	if !c.initAlive() {
		return Stopped
	}
	if _, err := os.Lstat(filepath.Join(c.Dir, fifoName)); err == nil {
		return Created
	}
	if c.frozen() {
		return Paused
	}
	return Running
}

// initAlive reports whether the recorded init still runs (the same process:
// same start time, and not a zombie).
func (c *Container) initAlive() bool {
	start, state, err := procStat(c.State.Pid)
	if err != nil {
		return false
	}
	return start == c.State.PidStartTime && state != "Z" && state != "X"
}

// procStat reads the start time (field 22) and state (field 3) of pid.
func procStat(pid int) (uint64, string, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, "", err
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, "", fmt.Errorf("parse /proc/%d/stat", pid)
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 20 {
		return 0, "", fmt.Errorf("parse /proc/%d/stat", pid)
	}
	start, err := strconv.ParseUint(f[19], 10, 64)
	return start, f[0], err
}

func (c *Container) save() error {
	data, err := json.Marshal(&c.State)
	if err != nil {
		return fmt.Errorf("encode state: %w", err)
	}
	return writeFileAtomic(filepath.Join(c.Dir, stateFile), data, 0o600)
}

// writeFileAtomic writes data to a temporary file beside path and renames it.
func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// lock takes the container directory's flock; the returned func releases it.
func lockDir(dir string) (func(), error) {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	if err := unix.Flock(fd, unix.LOCK_EX); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	return func() { unix.Close(fd) }, nil
}

// load reads a container's state; a missing container is NotFound.
func (r *Runtime) load(id string) (*Container, error) {
	if err := ValidateID(id); err != nil {
		return nil, err
	}
	dir := filepath.Join(r.Root, id)
	data, err := os.ReadFile(filepath.Join(dir, stateFile))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("container %q does not exist: %w", id, errdefs.ErrNotFound)
		}
		return nil, fmt.Errorf("container %q: %w", id, err)
	}
	c := &Container{Dir: dir}
	if err := json.Unmarshal(data, &c.State); err != nil {
		return nil, fmt.Errorf("container %q: corrupt state: %w", id, err)
	}
	return c, nil
}

// loadLocked loads a container and holds its lock.
func (r *Runtime) loadLocked(id string) (*Container, func(), error) {
	if err := ValidateID(id); err != nil {
		return nil, nil, err
	}
	dir := filepath.Join(r.Root, id)
	unlock, err := lockDir(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil, fmt.Errorf("container %q does not exist: %w", id, errdefs.ErrNotFound)
		}
		return nil, nil, err
	}
	c, err := r.load(id)
	if err != nil {
		unlock()
		return nil, nil, err
	}
	return c, unlock, nil
}
