package spec

import (
	"fmt"
	"path"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-project/berth/internal/errdefs"
)

// nsMode is how one namespace is set up: new, the host's, or joined by path.
type nsMode struct {
	host bool
	path string
}

func (m nsMode) private() bool { return !m.host && m.path == "" }

// parseNS reads a namespace option: "" and the given extra words mean a new
// namespace, "host" the host's, an absolute path one to join.
func parseNS(flag, v string, newWords ...string) (nsMode, error) {
	switch {
	case v == "":
		return nsMode{}, nil
	case v == "host":
		return nsMode{host: true}, nil
	case path.IsAbs(v):
		return nsMode{path: path.Clean(v)}, nil
	}
	for _, w := range newWords {
		if v == w {
			return nsMode{}, nil
		}
	}
	return nsMode{}, fmt.Errorf("%s %q: want \"\", \"host\" or the absolute path of a namespace: %w", flag, v, errdefs.ErrInvalidArgument)
}

// namespaceModes are the parsed namespace options.
type namespaceModes struct {
	net, pid, ipc, uts, cgroup nsMode
	ipcNone                    bool
	user                       bool
}

func parseNamespaces(opts RunOptions) (namespaceModes, error) {
	var m namespaceModes
	var err error
	if m.net, err = parseNS("network", opts.NetworkNS, "none", "private", "bridge"); err != nil {
		return m, err
	}
	if m.pid, err = parseNS("pid", opts.PIDNS, "private"); err != nil {
		return m, err
	}
	if m.ipc, err = parseNS("ipc", opts.IPCNS, "private", "shareable", "none"); err != nil {
		return m, err
	}
	m.ipcNone = opts.IPCNS == "none"
	if m.uts, err = parseNS("uts", opts.UTSNS, "private"); err != nil {
		return m, err
	}
	if m.cgroup, err = parseNS("cgroupns", opts.CgroupNS, "private"); err != nil {
		return m, err
	}
	if len(opts.UIDMappings) > 0 != (len(opts.GIDMappings) > 0) {
		return m, fmt.Errorf("user namespace: uid and gid mappings go together: %w", errdefs.ErrInvalidArgument)
	}
	m.user = len(opts.UIDMappings) > 0
	return m, nil
}

// namespaces lists the spec's namespaces in docker's order (mount, network,
// uts, pid, ipc, then cgroup and user): a host namespace is left out, a
// joined one has its path.
func (m namespaceModes) namespaces() []specs.LinuxNamespace {
	out := []specs.LinuxNamespace{{Type: specs.MountNamespace}}
	for _, n := range []struct {
		t specs.LinuxNamespaceType
		m nsMode
	}{
		{specs.NetworkNamespace, m.net},
		{specs.UTSNamespace, m.uts},
		{specs.PIDNamespace, m.pid},
		{specs.IPCNamespace, m.ipc},
		{specs.CgroupNamespace, m.cgroup},
	} {
		if !n.m.host {
			out = append(out, specs.LinuxNamespace{Type: n.t, Path: n.m.path})
		}
	}
	if m.user {
		out = append(out, specs.LinuxNamespace{Type: specs.UserNamespace})
	}
	return out
}
