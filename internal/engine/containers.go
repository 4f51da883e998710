package engine

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/store"
)

// ContainerSummary is one line of `berth ps`.
type ContainerSummary struct {
	Container
	State State
}

// Containers lists containers, newest first: running ones, or with all
// every one, that pass the filters ("status=exited", "name=web",
// "id=abc", "label=k[=v]", "ancestor=<image>", "exited=<code>").
func (e *Engine) Containers(ctx context.Context, all bool, filters []string) ([]ContainerSummary, error) {
	var cs []Container
	if err := e.db.View(func(tx *store.Tx) (err error) {
		cs, err = store.List[Container](tx, store.Containers)
		return err
	}); err != nil {
		return nil, err
	}
	match, err := containerFilter(filters)
	if err != nil {
		return nil, err
	}
	var out []ContainerSummary
	for _, c := range cs {
		s := ContainerSummary{Container: c, State: e.State(ctx, c)}
		if !all && !s.State.Running && !hasFilter(filters, "status") {
			continue
		}
		if match(s) {
			out = append(out, s)
		}
	}
	slices.SortFunc(out, func(a, b ContainerSummary) int { return b.Created.Compare(a.Created) })
	return out, nil
}

// checkFilterValue refuses, as docker does, a status that no container
// can have and an exit code that is no number (they matched nothing).
func checkFilterValue(k, v string) error {
	switch k {
	case "status":
		switch v {
		case StatusCreated, StatusRunning, StatusPaused, StatusRestarting, StatusExited, "removing", "dead":
		default:
			return fmt.Errorf("status %q: want created, restarting, running, removing, paused, exited or dead: %w", v, errdefs.ErrInvalidArgument)
		}
	case "exited":
		if _, err := strconv.Atoi(v); err != nil {
			return fmt.Errorf("exited %q: want an exit code: %w", v, errdefs.ErrInvalidArgument)
		}
	}
	return nil
}

func hasFilter(filters []string, key string) bool {
	for _, f := range filters {
		if strings.HasPrefix(f, key+"=") {
			return true
		}
	}
	return false
}

// containerFilter compiles docker's ps filters (values of one key are
// alternatives, but for labels, which must all hold; different keys must
// all hold).
func containerFilter(filters []string) (func(ContainerSummary) bool, error) {
	byKey := map[string][]string{}
	for _, f := range filters {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			return nil, fmt.Errorf("filter %q: want key=value: %w", f, errdefs.ErrInvalidArgument)
		}
		switch k {
		case "status", "name", "id", "label", "ancestor", "exited":
		default:
			return nil, fmt.Errorf("filter %q: unknown key %q (want status, name, id, label, ancestor or exited): %w", f, k, errdefs.ErrInvalidArgument)
		}
		if err := checkFilterValue(k, v); err != nil {
			return nil, fmt.Errorf("filter %q: %w", f, err)
		}
		byKey[k] = append(byKey[k], v)
	}
	one := func(k, v string, s ContainerSummary) bool {
		switch k {
		case "status":
			return s.State.Status == v
		case "name":
			return strings.Contains(s.Name, strings.TrimPrefix(v, "/"))
		case "id":
			return strings.HasPrefix(s.ID, v)
		case "label":
			lk, lv, hasValue := strings.Cut(v, "=")
			got, ok := s.Labels[lk]
			return ok && (!hasValue || got == lv)
		case "ancestor":
			return s.Image == v || s.ImageName == v || strings.HasPrefix(s.ImageID.Encoded(), strings.TrimPrefix(v, "sha256:")) || familiar(s.ImageName) == v
		case "exited":
			return s.State.Status == StatusExited && fmt.Sprint(s.State.ExitCode) == v
		}
		return false
	}
	return func(s ContainerSummary) bool {
		for k, vs := range byKey {
			match := func(v string) bool { return one(k, v, s) }
			if k == "label" {
				// docker: every label filter must hold.
				if !allHold(vs, match) {
					return false
				}
				continue
			}
			if !slices.ContainsFunc(vs, match) {
				return false
			}
		}
		return true
	}, nil
}

// Rename gives a container a new name.
func (e *Engine) Rename(s, name string) error {
	if err := checkContainerName(name); err != nil {
		return err
	}
	name = strings.TrimPrefix(name, "/")
	return e.db.Update(func(tx *store.Tx) error {
		c, err := lookupContainer(tx, s)
		if err != nil {
			return err
		}
		if c.Name == name {
			return fmt.Errorf("renaming a container with the same name as its current name: %w", errdefs.ErrInvalidArgument)
		}
		if err := nameFree(tx, name); err != nil {
			return err
		}
		if err := tx.Reserve(nameKind, name, c.ID); err != nil {
			return err
		}
		if err := tx.Release(nameKind, c.Name); err != nil {
			return err
		}
		oldName := c.Name
		c.Name = name
		return e.containerEvent(store.Put(tx, store.Containers, c.ID, c), c, "rename", "oldName", oldName)
	})
}

// ContainerInspect is `berth inspect`'s answer for a container, in docker's
// field names.
type ContainerInspect struct {
	ID              string          `json:"Id"`
	Created         string          `json:"Created"`
	Path            string          `json:"Path"`
	Args            []string        `json:"Args"`
	State           State           `json:"State"`
	Image           string          `json:"Image"`
	ResolvConfPath  string          `json:"ResolvConfPath"`
	HostnamePath    string          `json:"HostnamePath"`
	HostsPath       string          `json:"HostsPath"`
	LogPath         string          `json:"LogPath"`
	Name            string          `json:"Name"`
	RestartCount    int             `json:"RestartCount"`
	Driver          string          `json:"Driver"`
	Mounts          []MountPoint    `json:"Mounts"`
	Config          ContainerConfig `json:"Config"`
	HostConfig      HostConfig      `json:"HostConfig"`
	NetworkSettings NetworkSettings `json:"NetworkSettings"`
	// Berth's own.
	Runtime string `json:"Runtime"`
	Bundle  string `json:"Bundle"`
}

// HostConfig is the part of docker's HostConfig Berth keeps.
type HostConfig struct {
	NetworkMode   string            `json:"NetworkMode"`
	RestartPolicy map[string]any    `json:"RestartPolicy"`
	AutoRemove    bool              `json:"AutoRemove"`
	LogConfig     map[string]any    `json:"LogConfig"`
	Runtime       string            `json:"Runtime"`
	Labels        map[string]string `json:"-"`
	NetworkHostConfig
}

// InspectContainer describes the container the user's word s names.
func (e *Engine) InspectContainer(ctx context.Context, s string) (ContainerInspect, error) {
	c, err := e.container(s)
	if err != nil {
		return ContainerInspect{}, err
	}
	st := e.State(ctx, c)
	dir := e.containerDir(c.ID)
	out := ContainerInspect{
		ID: c.ID, Created: c.Created.Format("2006-01-02T15:04:05.999999999Z07:00"), Path: c.Path, Args: c.Args,
		State: st, Image: c.ImageID.String(), Name: "/" + c.Name, RestartCount: st.RestartCount,
		ResolvConfPath: dir + "/" + resolvConfFile, HostnamePath: dir + "/" + hostnameFile, HostsPath: dir + "/" + hostsFile,
		Driver: c.Driver, Mounts: c.Mounts, Config: c.Config, Runtime: c.Runtime, Bundle: dir,
		HostConfig: HostConfig{
			NetworkMode:   c.Network,
			RestartPolicy: map[string]any{"Name": c.Restart.Name, "MaximumRetryCount": c.Restart.MaximumRetryCount},
			AutoRemove:    c.AutoRemove,
			LogConfig:     map[string]any{"Type": c.Log.Driver, "Config": map[string]any{"max-size": c.Log.MaxSize, "max-file": c.Log.MaxFiles}},
			Runtime:       c.RuntimeName,
		},
	}
	if c.Log.Driver != "none" {
		out.LogPath = c.Log.Path
	}
	if out.Mounts == nil {
		out.Mounts = []MountPoint{}
	}
	out.NetworkSettings = e.networkSettings(c, st.Running)
	out.HostConfig.NetworkHostConfig = networkHostConfig(c)
	return out, nil
}

// allHold reports whether f holds for every element of vs.
func allHold(vs []string, f func(string) bool) bool {
	for _, v := range vs {
		if !f(v) {
			return false
		}
	}
	return true
}
