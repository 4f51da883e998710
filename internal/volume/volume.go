// Package volume keeps named volumes: directories that outlive the
// containers that mount them, under <root>/<name>/_data as docker's local
// driver keeps them, with their records in the metadata store.
//
// A volume is made by `berth volume create NAME` or on first use by
// `berth run -v NAME:/path` (and anonymously, with a random 64-hex name, for
// an image's VOLUME or `-v /path`). The engine decides whether a volume is
// in use (it knows the containers); this package only keeps them:
//
//	v, err := volumes.Create(tx, volume.Options{Name: "data"})
//	// bind-mount v.Mountpoint into the container at /data
//	err = volumes.Remove(tx, "data") // when no container uses it
package volume

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/store"
)

// Volume is one named volume.
type Volume struct {
	Name       string            `json:"Name"`
	Driver     string            `json:"Driver"`     // "local"
	Mountpoint string            `json:"Mountpoint"` // the host directory to bind
	CreatedAt  time.Time         `json:"CreatedAt"`
	Labels     map[string]string `json:"Labels"`
	Scope      string            `json:"Scope"`     // "local", as docker says
	Anonymous  bool              `json:"Anonymous"` // made for a container without a name
}

// Options describe a volume to create.
type Options struct {
	Name      string // "" for an anonymous volume (a random name)
	Driver    string // "" or "local"
	Labels    map[string]string
	Anonymous bool
}

// Volumes keeps volumes under one root directory.
type Volumes struct{ root string }

// New keeps volumes under root (/var/lib/berth/volumes).
func New(root string) *Volumes { return &Volumes{root: root} }

// validName is docker's rule for volume names.
var validName = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]+$`)

// Create makes the volume o describes, inside tx; an existing volume of
// that name is returned as it is (docker's `volume create` is idempotent).
// The directory is made before the record, so a crash leaves at most an
// empty directory that Prune's sweep removes.
func (v *Volumes) Create(tx *store.Tx, o Options) (Volume, error) {
	if o.Driver != "" && o.Driver != "local" {
		return Volume{}, fmt.Errorf("volume driver %q: only local is supported: %w", o.Driver, errdefs.ErrInvalidArgument)
	}
	if o.Name == "" {
		b := make([]byte, 32)
		if _, err := rand.Read(b); err != nil {
			return Volume{}, err
		}
		o.Name, o.Anonymous = hex.EncodeToString(b), true
	}
	if !validName.MatchString(o.Name) {
		return Volume{}, fmt.Errorf("volume name %q: only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed, at least 2 characters: %w", o.Name, errdefs.ErrInvalidArgument)
	}
	if old, err := store.Get[Volume](tx, store.Volumes, o.Name); err == nil {
		return old, nil
	} else if !errdefs.IsNotFound(err) {
		return Volume{}, err
	}
	vol := Volume{
		Name: o.Name, Driver: "local", Mountpoint: filepath.Join(v.root, o.Name, "_data"),
		CreatedAt: time.Now().UTC().Truncate(time.Second), Labels: o.Labels, Scope: "local", Anonymous: o.Anonymous,
	}
	if vol.Labels == nil {
		vol.Labels = map[string]string{}
	}
	if err := os.MkdirAll(vol.Mountpoint, 0o755); err != nil {
		return Volume{}, fmt.Errorf("volume %s: %w", o.Name, err)
	}
	if err := os.Chmod(filepath.Dir(vol.Mountpoint), 0o701); err != nil {
		return Volume{}, fmt.Errorf("volume %s: %w", o.Name, err)
	}
	if err := store.Create(tx, store.Volumes, o.Name, vol); err != nil {
		return Volume{}, err
	}
	return vol, nil
}

// Get returns the volume name.
func (v *Volumes) Get(tx *store.Tx, name string) (Volume, error) {
	vol, err := store.Get[Volume](tx, store.Volumes, name)
	if errdefs.IsNotFound(err) {
		return vol, fmt.Errorf("volume %s: %w", name, errdefs.ErrNotFound)
	}
	return vol, err
}

// List returns every volume, by name.
func (v *Volumes) List(tx *store.Tx) ([]Volume, error) {
	return store.List[Volume](tx, store.Volumes)
}

// Remove deletes the volume name and its data. The caller has checked that
// no container uses it.
func (v *Volumes) Remove(tx *store.Tx, name string) error {
	vol, err := v.Get(tx, name)
	if err != nil {
		return err
	}
	if err := store.Delete(tx, store.Volumes, name); err != nil {
		return err
	}
	// The data goes after the record (in the same transaction, which a
	// failure here rolls back): a crash after the commit leaves a directory
	// with no record, which Sweep removes.
	if err := os.RemoveAll(filepath.Dir(vol.Mountpoint)); err != nil {
		return fmt.Errorf("remove volume %s: %w", name, err)
	}
	return nil
}

// Sweep removes volume directories that have no record (left by a crash
// between a directory's making and its record, or after a record's
// removal).
func (v *Volumes) Sweep(tx *store.Tx) error {
	entries, err := os.ReadDir(v.root)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range entries {
		if _, err := store.Get[Volume](tx, store.Volumes, e.Name()); errdefs.IsNotFound(err) {
			if err := os.RemoveAll(filepath.Join(v.root, e.Name())); err != nil {
				return err
			}
		} else if err != nil {
			return err
		}
	}
	return nil
}
