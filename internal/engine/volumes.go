package engine

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/store"
	"github.com/berth-project/berth/internal/volume"
)

// CreateVolume makes a named volume (an existing one is returned as is).
func (e *Engine) CreateVolume(name, driver string, labels map[string]string) (volume.Volume, error) {
	var v volume.Volume
	err := e.db.Update(func(tx *store.Tx) (err error) {
		v, err = volume.New(e.volumesDir()).Create(tx, volume.Options{Name: name, Driver: driver, Labels: labels})
		return err
	})
	return v, e.volumeEvent(err, v.Name, "create")
}

// Volumes lists volumes that pass the filters ("dangling=true",
// "name=x", "label=k[=v]"), by name.
func (e *Engine) Volumes(filters []string) ([]volume.Volume, error) {
	var vs []volume.Volume
	var users map[string][]string
	err := e.db.View(func(tx *store.Tx) (err error) {
		if vs, err = volume.New(e.volumesDir()).List(tx); err != nil {
			return err
		}
		users, err = volumeUsers(tx)
		return err
	})
	if err != nil {
		return nil, err
	}
	var out []volume.Volume
	for _, v := range vs {
		ok := true
		for _, f := range filters {
			k, val, found := strings.Cut(f, "=")
			if !found {
				return nil, fmt.Errorf("filter %q: want key=value: %w", f, errdefs.ErrInvalidArgument)
			}
			switch k {
			case "dangling":
				ok = ok && (len(users[v.Name]) == 0) == (val == "true" || val == "1")
			case "name":
				ok = ok && strings.Contains(v.Name, val)
			case "label":
				lk, lv, hasValue := strings.Cut(val, "=")
				got, present := v.Labels[lk]
				ok = ok && present && (!hasValue || got == lv)
			case "driver":
				ok = ok && v.Driver == val
			default:
				return nil, fmt.Errorf("filter %q: unknown key %q (want dangling, name, label or driver): %w", f, k, errdefs.ErrInvalidArgument)
			}
		}
		if ok {
			out = append(out, v)
		}
	}
	return out, nil
}

// InspectVolume returns the volume name.
func (e *Engine) InspectVolume(name string) (volume.Volume, error) {
	var v volume.Volume
	err := e.db.View(func(tx *store.Tx) (err error) {
		v, err = volume.New(e.volumesDir()).Get(tx, name)
		return err
	})
	return v, err
}

// RemoveVolume deletes a volume no container uses (force: even if one
// does, as docker's -f does not allow either: it only ignores a missing
// volume).
func (e *Engine) RemoveVolume(name string, force bool) error {
	return e.db.Update(func(tx *store.Tx) error {
		users, err := volumeUsers(tx)
		if err != nil {
			return err
		}
		if u := users[name]; len(u) > 0 {
			return fmt.Errorf("remove volume %s: volume is in use by %s: %w", name, strings.Join(u, ", "), errdefs.ErrFailedPrecondition)
		}
		err = volume.New(e.volumesDir()).Remove(tx, name)
		if force && errdefs.IsNotFound(err) {
			return nil
		}
		return e.volumeEvent(err, name, "destroy")
	})
}

// PruneVolumes removes the volumes no container uses — anonymous ones, or
// with all named ones too (docker 23's rule) — and returns their names.
func (e *Engine) PruneVolumes(ctx context.Context, all bool) ([]string, error) {
	var removed []string
	err := e.db.Update(func(tx *store.Tx) error {
		vols := volume.New(e.volumesDir())
		vs, err := vols.List(tx)
		if err != nil {
			return err
		}
		users, err := volumeUsers(tx)
		if err != nil {
			return err
		}
		for _, v := range vs {
			if len(users[v.Name]) > 0 || !v.Anonymous && !all {
				continue
			}
			if err := vols.Remove(tx, v.Name); err != nil {
				return err
			}
			removed = append(removed, v.Name)
			e.volumeEvent(nil, v.Name, "destroy")
		}
		return vols.Sweep(tx)
	})
	return removed, err
}

// volumeUsers maps each volume to the names of the containers that mount it.
func volumeUsers(tx *store.Tx) (map[string][]string, error) {
	cs, err := store.List[Container](tx, store.Containers)
	if err != nil {
		return nil, err
	}
	users := map[string][]string{}
	for _, c := range cs {
		for _, m := range c.Mounts {
			if m.Type == "volume" && !slices.Contains(users[m.Name], c.Name) {
				users[m.Name] = append(users[m.Name], c.Name)
			}
		}
	}
	return users, nil
}
