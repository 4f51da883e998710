// Package engine holds Berth's use-cases — pull, list, tag, remove, push,
// save, load, import, prune — over the stages that do the work: the
// registry client, the content store, the unpacker and snapshotter, and
// the metadata store. It knows nothing of its callers (the berth CLI, the
// CRI server): they pass options in and get plain data back.
//
// Every berth command is a short process: Open is cheap, holds no lock,
// and several engines (processes) share one root at once. On disk, under
// Config.Root (/var/lib/berth):
//
//	berth.db                 metadata (internal/store): images, later containers, volumes
//	content/                 blobs by digest (internal/content), GC roots
//	snapshots/<driver>/      unpacked layers by chain ID (internal/snapshot/…)
//	gc.lock                  shared while a process takes its root, exclusive while GC runs (gclock.go)
//
// and under Config.RunRoot (/run/berth): unpack/<driver>/, the locks of
// unpacks in progress (internal/unpack).
//
// An image's blobs live as long as a content root names them:
// "image/<target digest>" while any image record (named or dangling) has
// that target — added before the first record, removed after the last, so
// a crash between the two leaves a root too many, which prune reconciles,
// never a record whose blobs can be collected — and "pull/<pid>/…" while a
// pull, load or import runs; that root also names the chain IDs of the
// snapshots the process unpacks or reuses, which GC spares too.
package engine

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/berth-project/berth/internal/content"
	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/registry"
	"github.com/berth-project/berth/internal/snapshot"
	"github.com/berth-project/berth/internal/snapshot/native"
	"github.com/berth-project/berth/internal/snapshot/overlay"
	"github.com/berth-project/berth/internal/store"
)

// Config says where an engine keeps its state and how it reaches
// registries. The zero value of a field means its default.
type Config struct {
	Root           string // state: /var/lib/berth
	RunRoot        string // runtime files: /run/berth
	StorageDriver  string // "overlay" or "native"; "" picks overlay where it works
	RegistriesConf string // registries.toml; "" means the default path
	AuthFile       string // credentials file; "" means docker's config.json and containers' auth.json
	ConfigFile     string // the engine's settings (Settings); "" means DefaultConfigPath()
	// CleanupCommand is the command a container's monitor runs, with the
	// container's ID appended, once the container is done (the CLI's
	// `berth … container cleanup`): it unmounts the rootfs and honours --rm.
	CleanupCommand []string
	// Rootless: the engine runs as root of an unprivileged user's user
	// namespace (internal/rootless): overlay mounts use userxattr.
	Rootless bool
}

// Default paths for root.
const (
	DefaultRoot    = "/var/lib/berth"
	DefaultRunRoot = "/run/berth"
)

// Engine carries out Berth's use-cases on one root.
type Engine struct {
	cfg      Config
	db       *store.DB
	content  *content.Store
	snap     snapshot.Snapshotter
	driver   string
	registry *registry.Client
	settings Settings
}

// Open opens (creating if needed) the engine state under cfg.Root.
func Open(cfg Config) (*Engine, error) {
	if cfg.Root == "" {
		cfg.Root = DefaultRoot
	}
	if cfg.RunRoot == "" {
		cfg.RunRoot = DefaultRunRoot
	}
	if err := checkDriver(cfg.StorageDriver); err != nil {
		return nil, err // before the root is made: bad input leaves nothing
	}
	settings, err := LoadSettings(cfg.ConfigFile)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.Root, 0o700); err != nil {
		return nil, fmt.Errorf("storage root: %w", err)
	}
	e := &Engine{cfg: cfg, settings: settings}
	if e.db, err = store.Open(filepath.Join(cfg.Root, "berth.db")); err != nil {
		return nil, err
	}
	if e.content, err = content.Open(filepath.Join(cfg.Root, "content")); err != nil {
		return nil, err
	}
	if e.driver, err = e.pickDriver(); err != nil {
		return nil, err
	}
	dir := filepath.Join(cfg.Root, "snapshots", e.driver)
	switch e.driver {
	case "overlay":
		e.snap, err = overlay.New(dir, overlay.Options{UserXattr: cfg.Rootless})
	case "native":
		e.snap, err = native.New(dir)
	}
	if err != nil {
		return nil, fmt.Errorf("%s snapshotter: %w", e.driver, err)
	}
	regs, err := registry.LoadRegistries(cfg.RegistriesConf)
	if err != nil {
		e.snap.Close()
		return nil, err
	}
	e.registry = registry.New(registry.Options{
		Registries: regs,
		AuthFile:   cfg.AuthFile,
		UserAgent:  "berth/" + Version,
	})
	return e, nil
}

// Version is the engine's version, set by the build.
var Version = "0.1.0-dev"

// pickDriver returns the configured storage driver, or the one used
// before (a root keeps its driver), or overlay where it works.
func (e *Engine) pickDriver() (string, error) {
	switch e.cfg.StorageDriver {
	case "overlay", "native":
		return e.cfg.StorageDriver, nil
	case "":
	default:
		return "", checkDriver(e.cfg.StorageDriver)
	}
	for _, d := range []string{"overlay", "native"} {
		if _, err := os.Stat(filepath.Join(e.cfg.Root, "snapshots", d)); err == nil {
			return d, nil
		}
	}
	if err := overlay.SupportedWith(e.cfg.Root, overlay.Options{UserXattr: e.cfg.Rootless}); err != nil {
		return "native", nil
	}
	return "overlay", nil
}

// checkDriver refuses a storage driver name other than overlay, native or
// "" (the default).
func checkDriver(name string) error {
	switch name {
	case "", "overlay", "native":
		return nil
	}
	return fmt.Errorf("storage driver %q: want overlay or native: %w", name, errdefs.ErrInvalidArgument)
}

// Close releases the engine's resources.
func (e *Engine) Close() error {
	return e.snap.Close()
}

// StorageDriver names the snapshotter in use.
func (e *Engine) StorageDriver() string { return e.driver }
