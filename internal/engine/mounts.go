package engine

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/spec"
	"github.com/berth-project/berth/internal/store"
	"github.com/berth-project/berth/internal/volume"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// containerMounts resolves -v, --mount and --tmpfs (and the image's VOLUMEs,
// as anonymous volumes) into the spec's mounts and inspect's mount points,
// creating named and anonymous volumes as needed.
func (e *Engine) containerMounts(o CreateOptions, imageVolumes map[string]struct{}, undo *undoStack) ([]specs.Mount, []MountPoint, error) {
	var reqs []mountRequest
	for _, v := range o.Volumes {
		r, err := parseVolumeFlag(v)
		if err != nil {
			return nil, nil, err
		}
		reqs = append(reqs, r)
	}
	for _, m := range o.Mounts {
		r, err := parseMountFlag(m)
		if err != nil {
			return nil, nil, err
		}
		reqs = append(reqs, r)
	}
	for _, t := range o.Tmpfs {
		dst, opts, _ := strings.Cut(t, ":")
		r := mountRequest{kind: "tmpfs", dst: dst, rw: true}
		if opts != "" {
			r.options = strings.Split(opts, ",")
		}
		reqs = append(reqs, r)
	}
	seen := map[string]bool{}
	var requested []specs.Mount
	for _, r := range reqs {
		if !path.IsAbs(r.dst) {
			return nil, nil, fmt.Errorf("mount destination %q: not an absolute path: %w", r.dst, errdefs.ErrInvalidArgument)
		}
		r.dst = path.Clean(r.dst)
		if seen[r.dst] {
			return nil, nil, fmt.Errorf("duplicate mount point: %s: %w", r.dst, errdefs.ErrInvalidArgument)
		}
		seen[r.dst] = true
		requested = append(requested, specs.Mount{Destination: r.dst})
	}
	for _, p := range spec.ImageVolumes(imageVolumes, requested) {
		reqs = append(reqs, mountRequest{kind: "volume", dst: p, rw: true})
	}

	var mounts []specs.Mount
	var points []MountPoint
	err := e.db.Update(func(tx *store.Tx) error {
		vols := volume.New(e.volumesDir())
		for _, r := range reqs {
			m, p, err := e.resolveMount(tx, vols, r, undo)
			if err != nil {
				return err
			}
			mounts = append(mounts, m)
			points = append(points, p)
		}
		return nil
	})
	return mounts, points, err
}

func (e *Engine) volumesDir() string { return filepath.Join(e.cfg.Root, "volumes") }

// mountRequest is one mount as the user asked for it.
type mountRequest struct {
	kind      string // bind, volume, tmpfs
	src, dst  string // src: a host path (bind) or a volume name ("" anonymous)
	rw        bool
	options   []string // extra mount options (propagation, tmpfs size, …)
	mustExist bool     // --mount type=bind: docker refuses a missing source; -v creates it
}

// resolveMount makes the volume or checks the bind source of r.
func (e *Engine) resolveMount(tx *store.Tx, vols *volume.Volumes, r mountRequest, undo *undoStack) (specs.Mount, MountPoint, error) {
	mode := "rw"
	if !r.rw {
		mode = "ro"
	}
	p := MountPoint{Type: r.kind, Destination: r.dst, RW: r.rw, Mode: mode}
	switch r.kind {
	case "tmpfs":
		opts := append([]string{"nosuid", "nodev", "noexec"}, r.options...)
		if !r.rw {
			opts = append(opts, "ro")
		}
		p.Source = "tmpfs"
		return specs.Mount{Destination: r.dst, Type: "tmpfs", Source: "tmpfs", Options: opts}, p, nil
	case "volume":
		existed := false
		if r.src != "" {
			_, err := vols.Get(tx, r.src)
			existed = err == nil
		}
		v, err := vols.Create(tx, volume.Options{Name: r.src})
		if err != nil {
			return specs.Mount{}, p, err
		}
		if !existed {
			// A create that fails later takes the volume back: its record
			// (committed by then, unless this transaction fails) and its
			// directory.
			undo.push(func() {
				_ = e.db.Update(func(tx *store.Tx) error {
					if err := volume.New(e.volumesDir()).Remove(tx, v.Name); err != nil && !errdefs.IsNotFound(err) {
						return err
					}
					return nil
				})
				os.RemoveAll(filepath.Dir(v.Mountpoint))
			})
		}
		p.Name, p.Source, p.Anonymous = v.Name, v.Mountpoint, v.Anonymous
		return bindMount(v.Mountpoint, r), p, nil
	}
	src, err := filepath.Abs(r.src)
	if err != nil {
		return specs.Mount{}, p, err
	}
	if _, err := os.Stat(src); errors.Is(err, os.ErrNotExist) {
		if r.mustExist {
			return specs.Mount{}, p, fmt.Errorf("bind source path does not exist: %s: %w", src, errdefs.ErrInvalidArgument)
		}
		// -v makes a missing host directory, as docker does.
		if err := os.MkdirAll(src, 0o755); err != nil {
			return specs.Mount{}, p, fmt.Errorf("create the bind source %s: %w", src, err)
		}
	} else if err != nil {
		return specs.Mount{}, p, err
	}
	p.Source = src
	return bindMount(src, r), p, nil
}

func bindMount(src string, r mountRequest) specs.Mount {
	opts := []string{"rbind"}
	if r.rw {
		opts = append(opts, "rw")
	} else {
		opts = append(opts, "ro")
	}
	opts = append(opts, r.options...)
	return specs.Mount{Destination: r.dst, Type: "bind", Source: src, Options: opts}
}

// parseVolumeFlag reads -v: "/ctr" (anonymous volume), "name:/ctr[:opts]"
// (named volume), "/host:/ctr[:opts]" (bind); opts: ro, rw, z, Z,
// propagation (shared, slave, private and their r forms).
func parseVolumeFlag(v string) (mountRequest, error) {
	parts := strings.Split(v, ":")
	r := mountRequest{rw: true}
	switch len(parts) {
	case 1:
		r.kind, r.dst = "volume", parts[0]
		return r, nil
	case 2, 3:
		r.src, r.dst = parts[0], parts[1]
	default:
		return r, fmt.Errorf("-v %q: want [SOURCE:]DESTINATION[:OPTIONS]: %w", v, errdefs.ErrInvalidArgument)
	}
	if r.src == "" {
		return r, fmt.Errorf("-v %q: empty source: %w", v, errdefs.ErrInvalidArgument)
	}
	r.kind = "volume"
	if strings.HasPrefix(r.src, "/") || strings.HasPrefix(r.src, ".") {
		r.kind = "bind"
	}
	if len(parts) == 3 {
		for _, o := range strings.Split(parts[2], ",") {
			switch o {
			case "ro":
				r.rw = false
			case "rw":
				r.rw = true
			case "z", "Z":
				// SELinux relabelling: nothing to do on a host without SELinux.
			case "shared", "rshared", "slave", "rslave", "private", "rprivate":
				r.options = append(r.options, o)
			default:
				return r, fmt.Errorf("-v %q: unknown option %q: %w", v, o, errdefs.ErrInvalidArgument)
			}
		}
	}
	return r, nil
}

// parseMountFlag reads --mount type=bind|volume|tmpfs,source=…,target=…,
// readonly[,tmpfs-size=…,tmpfs-mode=…,bind-propagation=…].
func parseMountFlag(s string) (mountRequest, error) {
	r := mountRequest{kind: "volume", rw: true}
	for _, field := range strings.Split(s, ",") {
		k, v, _ := strings.Cut(field, "=")
		switch strings.ToLower(k) {
		case "type":
			r.kind = v
		case "source", "src":
			r.src = v
		case "target", "destination", "dst":
			r.dst = v
		case "readonly", "ro":
			r.rw = v == "false" || v == "0"
		case "tmpfs-size":
			n, err := parseBytes(v)
			if err != nil {
				return r, fmt.Errorf("--mount %q: %w", s, err)
			}
			r.options = append(r.options, fmt.Sprintf("size=%d", n))
		case "tmpfs-mode":
			r.options = append(r.options, "mode="+v)
		case "bind-propagation":
			r.options = append(r.options, v)
		default:
			return r, fmt.Errorf("--mount %q: unknown field %q: %w", s, k, errdefs.ErrInvalidArgument)
		}
	}
	switch r.kind {
	case "bind":
		if r.src == "" {
			return r, fmt.Errorf("--mount %q: a bind needs a source: %w", s, errdefs.ErrInvalidArgument)
		}
		r.mustExist = true
	case "volume", "tmpfs":
	default:
		return r, fmt.Errorf("--mount %q: type %q: want bind, volume or tmpfs: %w", s, r.kind, errdefs.ErrInvalidArgument)
	}
	if r.dst == "" {
		return r, fmt.Errorf("--mount %q: no target: %w", s, errdefs.ErrInvalidArgument)
	}
	return r, nil
}
