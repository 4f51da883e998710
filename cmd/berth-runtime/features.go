package main

import (
	"sort"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/runtime-spec/specs-go/features"
	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/linux/caps"
	"github.com/berth-project/berth/internal/linux/cgroups"
	"github.com/berth-project/berth/internal/linux/mount"
	"github.com/berth-project/berth/internal/linux/ns"
	"github.com/berth-project/berth/internal/linux/seccomp"
)

func newFeaturesCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "features",
		Short: "Print what this runtime supports (OCI features JSON)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return printJSON(featureSet())
		},
	}
}

func featureSet() *features.Features {
	t, f := true, false
	var nss []string
	for _, k := range ns.Kinds {
		nss = append(nss, string(k.Type))
	}
	opts := mount.KnownOptions()
	sort.Strings(opts)
	mode := cgroups.HostMode()
	v1 := mode != cgroups.Unified
	v2 := mode != cgroups.Legacy
	sec := seccomp.Supported()
	return &features.Features{
		OCIVersionMin: "1.0.0",
		OCIVersionMax: specs.Version,
		Hooks:         []string{"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"},
		MountOptions:  opts,
		Linux: &features.Linux{
			Namespaces:   nss,
			Capabilities: caps.Names(),
			Cgroup:       &features.Cgroup{V1: &v1, V2: &v2, Systemd: &f, SystemdUser: &f, Rdma: &t},
			Seccomp: &features.Seccomp{
				Enabled: &sec, Actions: seccomp.Actions(), Operators: seccomp.Operators(),
				Archs: seccomp.Archs(), KnownFlags: seccomp.KnownFlags(), SupportedFlags: seccomp.SupportedFlags(),
			},
			Apparmor:        &features.Apparmor{Enabled: &t},
			Selinux:         &features.Selinux{Enabled: &t},
			IntelRdt:        &features.IntelRdt{Enabled: &f},
			MountExtensions: &features.MountExtensions{IDMap: &features.IDMap{Enabled: &t}},
		},
		Annotations: map[string]string{
			"org.opencontainers.runtime-spec.features.runtime.name": "berth-runtime",
			"io.github.berth-project.berth.version":                 version,
		},
	}
}
