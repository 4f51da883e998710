package engine

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/monitor"
	"github.com/berth-project/berth/internal/store"
	digest "github.com/opencontainers/go-digest"
)

// Container is the record of one container in the store: what it was made
// from and with. Its state (running, exited, …) is not recorded here: it
// is read each time from the monitor's files and the OCI runtime, which
// are the truth (see State).
type Container struct {
	ID        string        `json:"id"`
	Name      string        `json:"name"`
	Image     string        `json:"image"`   // as the user named it
	ImageID   digest.Digest `json:"imageID"` // the config digest
	ImageName string        `json:"imageName"`
	Created   time.Time     `json:"created"`
	// Path and Args are the process the container runs.
	Path string   `json:"path"`
	Args []string `json:"args"`
	// Runtime is the OCI runtime binary; RuntimeName what the user called it.
	Runtime     string `json:"runtime"`
	RuntimeName string `json:"runtimeName"`
	// Driver and Snapshot name its root filesystem's snapshot.
	Driver   string `json:"driver"`
	Snapshot string `json:"snapshot"`
	// Network is the network mode, as docker's NetworkMode: "bridge" (the
	// default network), a user network's name, "none" (a namespace of its
	// own with loopback only), "host" or "container:<id>"; NetNS the path
	// of the namespace the engine made (bridge, user networks, none).
	Network string `json:"network"`
	NetNS   string `json:"netns,omitempty"`
	// Net: the networks it joins at each start and its network flags.
	Net ContainerNet `json:"net,omitzero"`

	Restart     monitor.RestartPolicy `json:"restart"`
	Health      *monitor.HealthConfig `json:"health,omitempty"`
	Log         monitor.LogConfig     `json:"log"`
	StopSignal  string                `json:"stopSignal"`
	StopTimeout int                   `json:"stopTimeout"` // seconds
	AutoRemove  bool                  `json:"autoRemove"`
	OpenStdin   bool                  `json:"openStdin"`
	TTY         bool                  `json:"tty"`
	Labels      map[string]string     `json:"labels,omitempty"`
	Mounts      []MountPoint          `json:"mounts,omitempty"`
	// Config is what the user asked, for inspect.
	Config ContainerConfig `json:"config"`
}

// MountPoint is one mount of a container, as inspect shows it.
type MountPoint struct {
	Type        string `json:"Type"` // bind, volume, tmpfs
	Name        string `json:"Name,omitempty"`
	Source      string `json:"Source"`
	Destination string `json:"Destination"`
	Mode        string `json:"Mode"`
	RW          bool   `json:"RW"`
	Anonymous   bool   `json:"-"`
}

// ContainerConfig is the container's configuration in docker's inspect
// field names.
type ContainerConfig struct {
	Hostname     string            `json:"Hostname"`
	User         string            `json:"User"`
	Env          []string          `json:"Env"`
	Cmd          []string          `json:"Cmd"`
	Entrypoint   []string          `json:"Entrypoint"`
	WorkingDir   string            `json:"WorkingDir"`
	Labels       map[string]string `json:"Labels"`
	StopSignal   string            `json:"StopSignal"`
	Tty          bool              `json:"Tty"`
	OpenStdin    bool              `json:"OpenStdin"`
	ExposedPorts []string          `json:"ExposedPorts,omitempty"`
	Image        string            `json:"Image"`
}

// The kinds of names the store reserves.
const nameKind = "container"

// containerDir holds what a container keeps across reboots: its bundle
// (config.json, rootfs/), the files bound into it, its log and exit file.
func (e *Engine) containerDir(id string) string {
	return filepath.Join(e.cfg.Root, "containers", id)
}

// runDir holds the monitor's files and sockets while the container lives.
func (e *Engine) runDir(id string) string { return filepath.Join(e.cfg.RunRoot, "containers", id) }

func (e *Engine) exitFile(id string) string { return filepath.Join(e.containerDir(id), "exit") }
func (e *Engine) rootfs(id string) string   { return filepath.Join(e.containerDir(id), "rootfs") }
func (e *Engine) logPath(id string) string  { return filepath.Join(e.containerDir(id), "ctr.log") }

// runtimeRoot is the --root of runtime for the engine's containers.
func (e *Engine) runtimeRoot(name string) string {
	return filepath.Join(e.cfg.RunRoot, "runtime", filepath.Base(name))
}

// newID returns a random 64-hex container ID.
func newID() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// lookupContainer finds the container the user's word s names: a full
// name, a full ID or a unique prefix of one, as docker does.
func lookupContainer(tx *store.Tx, s string) (Container, error) {
	if s == "" {
		return Container{}, fmt.Errorf("container name or ID: empty: %w", errdefs.ErrInvalidArgument)
	}
	name := strings.TrimPrefix(s, "/")
	if owner, err := tx.Owner(nameKind, name); err == nil {
		return store.Get[Container](tx, store.Containers, owner)
	}
	if c, err := store.Get[Container](tx, store.Containers, s); err == nil {
		return c, nil
	}
	ids, err := store.Keys(tx, store.Containers)
	if err != nil {
		return Container{}, err
	}
	var match []string
	for _, id := range ids {
		if strings.HasPrefix(id, s) {
			match = append(match, id)
		}
	}
	switch len(match) {
	case 0:
		return Container{}, fmt.Errorf("no such container: %s: %w", s, errdefs.ErrNotFound)
	case 1:
		return store.Get[Container](tx, store.Containers, match[0])
	}
	return Container{}, fmt.Errorf("container ID prefix %q is ambiguous (%d containers): %w", s, len(match), errdefs.ErrInvalidArgument)
}

// container looks a container up in its own transaction.
func (e *Engine) container(s string) (Container, error) {
	var c Container
	err := e.db.View(func(tx *store.Tx) (err error) {
		c, err = lookupContainer(tx, s)
		return err
	})
	return c, err
}

// lockContainer serialises the lifecycle changes of one container across
// processes (start, cleanup, remove).
func (e *Engine) lockContainer(ctx context.Context, id string) (unlock func(), err error) {
	dir := e.containerDir(id)
	if _, err := os.Stat(dir); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("container %s: %w", shortContainerID(id), errdefs.ErrNotFound)
		}
		return nil, err
	}
	l, err := lockFile(ctx, filepath.Join(dir, "lock"))
	if err != nil {
		return nil, fmt.Errorf("lock container %s: %w", shortContainerID(id), err)
	}
	return l, nil
}

func shortContainerID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
