package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/image"
	"github.com/berth-project/berth/internal/linux/cgroups"
	"github.com/berth-project/berth/internal/linux/mount"
	"github.com/berth-project/berth/internal/linux/pathrs"
	"github.com/berth-project/berth/internal/linux/seccomp"
	"github.com/berth-project/berth/internal/monitor"
	"github.com/berth-project/berth/internal/spec"
	"github.com/berth-project/berth/internal/store"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// CreateOptions are `berth create` (and run)'s flags.
type CreateOptions struct {
	Name  string // "" for a generated one
	Image string // a name or ID of a local image (the CLI pulls first)
	// Run are the flags that shape the spec; the engine fills in ID,
	// Mounts, namespaces, the bound files and the seccomp default.
	Run spec.RunOptions
	// Volumes (-v), Mounts (--mount) and Tmpfs (--tmpfs), in docker's syntax.
	Volumes, Mounts, Tmpfs []string
	// Network: "" or "bridge" (the default network), a user network's
	// name, "none" (a namespace of its own, loopback only), "host", or
	// "container:<name|id>"; Net the other network flags.
	Network string
	Net     NetworkOptions
	// Runtime is an OCI runtime's name or path ("" is berth-runtime).
	Runtime string
	// Restart is docker's --restart (no, on-failure[:N], always,
	// unless-stopped).
	Restart string
	// Health is the health check (nil for none).
	Health *monitor.HealthConfig
	// LogDriver (k8s-file, json-file, none) and its --log-opt max-size,
	// max-file.
	LogDriver string
	LogOpts   map[string]string
	// StopTimeout (--stop-timeout) in seconds; nil is 10.
	StopTimeout *int
	// AutoRemove is --rm.
	AutoRemove bool
}

// DefaultStopTimeout is how long stop waits before SIGKILL, as docker.
const DefaultStopTimeout = 10

// Create makes a container from a local image: its snapshot, volumes,
// network namespace, bound files and OCI bundle, and its record. It does
// not start it. On any error nothing is left.
func (e *Engine) Create(ctx context.Context, o CreateOptions) (c Container, err error) {
	img, err := e.lookupImageRecord(o.Image)
	if err != nil {
		return c, err
	}
	cfg, err := e.config(img)
	if err != nil {
		return c, err
	}
	if o.Name != "" {
		if err := checkContainerName(o.Name); err != nil {
			return c, err
		}
		o.Name = strings.TrimPrefix(o.Name, "/")
		if err := e.db.View(func(tx *store.Tx) error { return nameFree(tx, o.Name) }); err != nil {
			return c, err
		}
	}
	id, err := newID()
	if err != nil {
		return c, err
	}
	c = Container{
		ID: id, Name: o.Name, Image: o.Image, ImageID: img.Config, ImageName: img.Name,
		Created: time.Now().UTC(), Driver: e.driver, Snapshot: "ctr-" + id,
		AutoRemove: o.AutoRemove, OpenStdin: o.Run.OpenStdin, TTY: o.Run.TTY, Health: o.Health,
		StopTimeout: DefaultStopTimeout,
	}
	if o.StopTimeout != nil {
		c.StopTimeout = *o.StopTimeout
	}
	if c.Restart, err = monitor.ParseRestartPolicy(o.Restart); err != nil {
		return c, err
	}
	if c.AutoRemove && c.Restart.Name != "" && c.Restart.Name != "no" {
		return c, fmt.Errorf("--rm and --restart %s conflict: %w", o.Restart, errdefs.ErrInvalidArgument)
	}
	if c.Log, err = logConfig(e.logPath(id), o.LogDriver, o.LogOpts); err != nil {
		return c, err
	}
	if c.Runtime, c.RuntimeName, err = e.findRuntime(o.Runtime); err != nil {
		return c, err
	}

	dir := e.containerDir(id)
	if err := os.MkdirAll(filepath.Join(dir, "rootfs"), 0o700); err != nil {
		return c, err
	}
	unlock, err := e.lockContainer(ctx, id)
	if err != nil {
		os.RemoveAll(dir)
		return c, err
	}
	// The rollback runs under the lock, before it is released.
	var undo undoStack
	undo.push(func() { os.RemoveAll(dir) })
	defer func() {
		if err != nil {
			undo.run()
		}
		unlock()
	}()

	diffIDs := cfg.RootFS.DiffIDs
	if len(diffIDs) == 0 {
		return c, fmt.Errorf("image %s has no layers: %w", o.Image, errdefs.ErrFailedPrecondition)
	}
	ms, err := e.snap.Prepare(ctx, c.Snapshot, image.ChainID(diffIDs).String(), map[string]string{labelContainer: id})
	if err != nil {
		return c, fmt.Errorf("root filesystem of %s: %w", shortContainerID(id), err)
	}
	undo.push(func() { e.snap.Remove(context.Background(), c.Snapshot) })
	users, err := readUsers(ms)
	if err != nil {
		return c, err
	}

	run := o.Run
	run.ID = id
	run.DefaultSeccomp = seccomp.DefaultProfile
	run.HostCapabilities = hostCapabilities()
	if run.Privileged {
		// docker's HostDevices: every node of the host's /dev, then the
		// --device ones (a later device of the same path wins).
		run.Devices = append(hostDevices(), run.Devices...)
	}
	if run.CgroupNS == "" && cgroups.HostMode() != cgroups.Unified {
		run.CgroupNS = "host"
	}
	mounts, points, err := e.containerMounts(o, cfg.Config.Volumes, &undo)
	if err != nil {
		return c, err
	}
	run.Mounts, c.Mounts = mounts, points

	if run.NetworkNS, err = e.containerNetwork(ctx, &c, o, &undo); err != nil {
		return c, err
	}
	hostname := run.Hostname
	if hostname == "" && c.Network != "host" {
		hostname = id[:12]
	}
	if c.Network == "host" && hostname == "" {
		hostname, _ = os.Hostname()
		run.Hostname = hostname
	}
	if err := writeHostFiles(dir, hostname, c.Network == "host"); err != nil {
		return c, err
	}
	c.Config.Hostname = hostname
	if err := e.writeNetworkFiles(c); err != nil {
		return c, err
	}
	run.HostsPath = filepath.Join(dir, hostsFile)
	run.HostnamePath = filepath.Join(dir, hostnameFile)
	run.ResolvConfPath = filepath.Join(dir, resolvConfFile)
	if run.Init && run.InitPath == "" {
		if run.InitPath, err = findInit(); err != nil {
			return c, err
		}
	}

	s, res, err := spec.FromImage(cfg.Config, run, users)
	if err != nil {
		return c, err
	}
	if e.cfg.Rootless {
		rootlessSpec(s)
	}
	if err := writeSpec(dir, s); err != nil {
		return c, err
	}
	c.Path, c.Args = s.Process.Args[0], s.Process.Args[1:]
	c.StopSignal, c.Labels = res.StopSignal, res.Labels
	c.Config = ContainerConfig{
		Hostname: hostname, User: run.User, Env: s.Process.Env, Cmd: run.Cmd, WorkingDir: s.Process.Cwd,
		Labels: res.Labels, StopSignal: res.StopSignal, Tty: run.TTY, OpenStdin: run.OpenStdin,
		ExposedPorts: res.ExposedPorts, Image: o.Image,
	}
	if run.Entrypoint != nil {
		c.Config.Entrypoint = *run.Entrypoint
	} else {
		c.Config.Entrypoint = cfg.Config.Entrypoint
	}
	if len(c.Config.Cmd) == 0 && run.Entrypoint == nil {
		c.Config.Cmd = cfg.Config.Cmd
	}

	err = e.db.Update(func(tx *store.Tx) error {
		if c.Name == "" {
			for attempt := 0; ; attempt++ {
				c.Name = randomName(attempt)
				if nameFree(tx, c.Name) == nil {
					break
				}
				if attempt == 20 {
					return fmt.Errorf("no free container name after %d tries: %w", attempt, errdefs.ErrUnavailable)
				}
			}
		}
		if err := tx.Reserve(nameKind, c.Name, id); err != nil {
			return fmt.Errorf("the container name %q is already in use: %w", c.Name, errdefs.ErrAlreadyExists)
		}
		if err := networksExist(tx, c); err != nil {
			return err
		}
		return store.Create(tx, store.Containers, id, c)
	})
	return c, e.containerEvent(err, c, "create")
}

// labelContainer marks the snapshot of a container with its ID.
const labelContainer = "berth.container"

// nameFree reports (as an error) whether name is taken.
func nameFree(tx *store.Tx, name string) error {
	if owner, err := tx.Owner(nameKind, name); err == nil {
		return fmt.Errorf("the container name %q is already in use by container %s: %w", name, shortContainerID(owner), errdefs.ErrAlreadyExists)
	} else if !errdefs.IsNotFound(err) {
		return err
	}
	return nil
}

// lookupImageRecord finds the local image the user's word s names.
func (e *Engine) lookupImageRecord(s string) (store.Image, error) {
	var img store.Image
	err := e.db.View(func(tx *store.Tx) (err error) {
		img, err = lookupImage(tx, s)
		return err
	})
	return img, err
}

// readUsers reads the image's /etc/passwd and /etc/group from the
// snapshot's mounts, resolved inside it (a symlink in the image must not
// lead to the host's files), through a detached mount that vanishes after.
func readUsers(ms []mount.Mount) (spec.Users, error) {
	if len(ms) != 1 {
		return spec.Users{}, fmt.Errorf("read the image's users: %d mounts: %w", len(ms), errdefs.ErrNotImplemented)
	}
	f, err := mount.Detached(ms[0])
	if err != nil {
		return spec.Users{}, fmt.Errorf("read the image's users: %w", err)
	}
	defer f.Close()
	return readUsersAt(pathrs.FdPath(f))
}

// writeSpec writes config.json into the bundle dir.
func writeSpec(dir string, s *specs.Spec) error {
	b, err := json.MarshalIndent(s, "", "\t")
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, ".config.json.tmp")
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, "config.json"))
}

// logConfig turns --log-driver and --log-opt into the monitor's config.
func logConfig(path, driver string, opts map[string]string) (monitor.LogConfig, error) {
	lc := monitor.LogConfig{Path: path, Driver: driver}
	switch driver {
	case "", monitor.DriverK8sFile:
		lc.Driver = monitor.DriverK8sFile
	case monitor.DriverJSONFile, monitor.DriverNone:
	default:
		return lc, fmt.Errorf("--log-driver %q: want k8s-file, json-file or none: %w", driver, errdefs.ErrInvalidArgument)
	}
	for k, v := range opts {
		switch k {
		case "max-size":
			n, err := parseBytes(v)
			if err != nil {
				return lc, fmt.Errorf("--log-opt max-size=%s: %w", v, err)
			}
			lc.MaxSize = n
		case "max-file":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return lc, fmt.Errorf("--log-opt max-file=%s: want a positive number: %w", v, errdefs.ErrInvalidArgument)
			}
			lc.MaxFiles = n
		default:
			return lc, fmt.Errorf("--log-opt %s: unknown (want max-size or max-file): %w", k, errdefs.ErrInvalidArgument)
		}
	}
	if lc.MaxFiles > 1 && lc.MaxSize == 0 {
		return lc, fmt.Errorf("--log-opt max-file needs max-size: %w", errdefs.ErrInvalidArgument)
	}
	return lc, nil
}

// parseBytes reads docker's sizes: 1024, 10k, 10m, 1g (binary units).
func parseBytes(s string) (int64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		m      int64
	}{{"kb", 1 << 10}, {"mb", 1 << 20}, {"gb", 1 << 30}, {"k", 1 << 10}, {"m", 1 << 20}, {"g", 1 << 30}, {"b", 1}} {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSuffix(t, u.suffix), u.m
			break
		}
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || f < 0 {
		return 0, fmt.Errorf("size %q: want a number with an optional unit (k, m, g): %w", s, errdefs.ErrInvalidArgument)
	}
	return int64(f * float64(mult)), nil
}

// undoStack runs cleanups in reverse order of their push (a create's
// rollback).
type undoStack []func()

func (u *undoStack) push(f func()) { *u = append(*u, f) }
func (u *undoStack) run() {
	for i := len(*u) - 1; i >= 0; i-- {
		(*u)[i]()
	}
}
