package spec

import (
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-project/berth/internal/errdefs"
)

// DefaultCgroupParent is the cgroup under which containers are placed when
// RunOptions gives neither CgroupsPath nor CgroupParent (docker's is
// "/docker").
const DefaultCgroupParent = "/berth"

// FromImage returns the OCI spec of a container of an image run with opts,
// with docker's defaults, and what else was decided (Result). users are
// the image's /etc/passwd and /etc/group, for resolving the user. It reads
// nothing and changes nothing: every error is ErrInvalidArgument and names
// the input at fault.
//
// The spec's root is "rootfs" (a bundle's), read-only with --read-only.
func FromImage(img ocispec.ImageConfig, opts RunOptions, users Users) (*specs.Spec, Result, error) {
	var res Result
	if opts.ID != "" && (opts.ID == "." || opts.ID == ".." || strings.Trim(opts.ID, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != "") {
		return nil, res, fmt.Errorf("container id %q: want letters, digits, '_', '.' and '-': %w", opts.ID, errdefs.ErrInvalidArgument)
	}
	ns, err := parseNamespaces(opts)
	if err != nil {
		return nil, res, err
	}

	argv, err := args(img, opts)
	if err != nil {
		return nil, res, err
	}
	var initMount []specs.Mount
	if opts.Init && ns.pid.private() {
		// As docker: an init only where the container has its own pid 1.
		if !path.IsAbs(opts.InitPath) {
			return nil, res, fmt.Errorf("--init: init binary %q: want an absolute host path: %w", opts.InitPath, errdefs.ErrInvalidArgument)
		}
		argv = append([]string{InitPathInContainer, "--"}, argv...)
		initMount = []specs.Mount{{Destination: InitPathInContainer, Type: "bind", Source: opts.InitPath, Options: []string{"bind", "ro"}}}
	}

	hostname := opts.Hostname
	if hostname == "" {
		hostname = opts.ID[:min(12, len(opts.ID))]
	}
	env, err := environment(img, opts, hostname)
	if err != nil {
		return nil, res, err
	}
	cwd, err := workingDir(img, opts)
	if err != nil {
		return nil, res, err
	}
	userSpec := opts.User
	if userSpec == "" {
		userSpec = img.User
	}
	user, err := resolveUser(userSpec, opts.GroupAdd, users)
	if err != nil {
		return nil, res, err
	}

	caps, err := capabilities(opts)
	if err != nil {
		return nil, res, err
	}
	var seccomp *specs.LinuxSeccomp
	switch {
	case opts.Privileged || opts.SeccompUnconfined:
	case opts.Seccomp != nil:
		seccomp = opts.Seccomp
	case opts.DefaultSeccomp == nil:
		return nil, res, fmt.Errorf("seccomp: the default profile is needed but RunOptions.DefaultSeccomp is nil: %w", errdefs.ErrInvalidArgument)
	default:
		seccomp = opts.DefaultSeccomp(slices.Clone(caps))
	}

	shm := opts.ShmSize
	switch {
	case shm < 0:
		return nil, res, fmt.Errorf("shm-size %d: can not be less than 0: %w", shm, errdefs.ErrInvalidArgument)
	case shm == 0:
		shm = DefaultShmSize
	}
	user0, err := userMounts(opts, ns)
	if err != nil {
		return nil, res, err
	}
	allMounts := append(mounts(opts, ns, user0, shm), initMount...)

	mem, err := memory(opts)
	if err != nil {
		return nil, res, err
	}
	cpus, err := cpu(opts)
	if err != nil {
		return nil, res, err
	}
	devs, rules, err := devices(opts)
	if err != nil {
		return nil, res, err
	}
	sysctl, err := sysctls(opts, ns)
	if err != nil {
		return nil, res, err
	}
	rlim, err := rlimits(opts)
	if err != nil {
		return nil, res, err
	}
	if opts.OOMScoreAdj < -1000 || opts.OOMScoreAdj > 1000 {
		return nil, res, fmt.Errorf("oom-score-adj %d: want -1000..1000: %w", opts.OOMScoreAdj, errdefs.ErrInvalidArgument)
	}
	oom := opts.OOMScoreAdj

	var masked, readonly []string
	if !opts.Privileged {
		masked = slices.Clone(dockerMaskedPaths)
		for _, p := range opts.MaskedPaths {
			if !path.IsAbs(p) {
				return nil, res, fmt.Errorf("masked path %q: not an absolute path: %w", p, errdefs.ErrInvalidArgument)
			}
			masked = appendNew(masked, path.Clean(p))
		}
		readonly = slices.Clone(dockerReadonlyPaths)
	}

	cgroupsPath, err := cgroupsPathOf(opts)
	if err != nil {
		return nil, res, err
	}

	stop := opts.StopSignal
	if stop == "" {
		stop = img.StopSignal
	}
	if stop == "" {
		stop = "SIGTERM"
	}
	if res.StopSignal, res.StopSignalNumber, err = ParseSignal(stop); err != nil {
		return nil, res, fmt.Errorf("stop signal: %w", err)
	}
	if res.ExposedPorts, err = exposedPorts(img.ExposedPorts, opts.ExposedPorts); err != nil {
		return nil, res, err
	}
	res.Labels = maps.Clone(img.Labels)
	if len(opts.Labels) > 0 {
		if res.Labels == nil {
			res.Labels = map[string]string{}
		}
		maps.Copy(res.Labels, opts.Labels)
	}

	s := &specs.Spec{
		Version: specs.Version,
		Process: &specs.Process{
			Terminal: opts.TTY,
			User:     user,
			Args:     argv,
			Env:      env,
			Cwd:      cwd,
			Capabilities: &specs.LinuxCapabilities{
				Bounding:  slices.Clone(caps),
				Effective: slices.Clone(caps),
				Permitted: slices.Clone(caps),
			},
			Rlimits:         rlim,
			NoNewPrivileges: opts.NoNewPrivileges,
			OOMScoreAdj:     &oom,
		},
		Root:        &specs.Root{Path: "rootfs", Readonly: opts.ReadOnly},
		Mounts:      allMounts,
		Annotations: maps.Clone(opts.Annotations),
		Linux: &specs.Linux{
			UIDMappings: slices.Clone(opts.UIDMappings),
			GIDMappings: slices.Clone(opts.GIDMappings),
			Sysctl:      sysctl,
			Resources: &specs.LinuxResources{
				Devices: rules,
				Memory:  mem,
				CPU:     cpus,
				Pids:    pids(opts),
			},
			CgroupsPath:   cgroupsPath,
			Namespaces:    ns.namespaces(),
			Devices:       devs,
			Seccomp:       seccomp,
			MaskedPaths:   masked,
			ReadonlyPaths: readonly,
		},
	}
	if !ns.uts.host {
		s.Hostname, s.Domainname = hostname, opts.Domainname
	}
	if len(s.Annotations) == 0 {
		s.Annotations = nil
	}
	return s, res, nil
}

// cgroupsPathOf is CgroupsPath, else the parent joined with the ID (docker's
// WithCgroups): "parent/ID" for cgroupfs, "parent:berth:ID" for a systemd
// slice.
func cgroupsPathOf(opts RunOptions) (string, error) {
	if opts.CgroupsPath != "" {
		return opts.CgroupsPath, nil
	}
	if opts.ID == "" {
		return "", nil
	}
	parent := opts.CgroupParent
	if parent == "" {
		parent = DefaultCgroupParent
	}
	if strings.HasSuffix(parent, ".slice") && !strings.Contains(parent, "/") {
		return parent + ":berth:" + opts.ID, nil
	}
	if strings.Contains(parent, "..") {
		return "", fmt.Errorf("cgroup-parent %q: must not contain \"..\": %w", parent, errdefs.ErrInvalidArgument)
	}
	return path.Join("/", parent, opts.ID), nil
}
