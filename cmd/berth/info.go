package main

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/template"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/engine"
)

func newInfoCmd(g *globals) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "info [OPTIONS]",
		Short: "Show a summary of berth and its host",
		Long: `Show what berth holds (containers by state, images, volumes), how it stores
and runs them (storage driver and root, cgroup version and driver, the OCI
runtimes found and the default one, the registries configuration) and the
host (kernel, OS, CPUs, memory), in docker's terms. --format takes "json" or
a Go template over docker's field names (.Containers .ContainersRunning
.Driver .DockerRootDir .CgroupVersion .Runtimes .DefaultRuntime .KernelVersion
.NCPU .MemTotal .ServerVersion .RegistryConfig …).`,
		Args: cobra.NoArgs,
		RunE: g.withEngine(func(cmd *cobra.Command, args []string, e *engine.Engine) error {
			info, err := e.Info(cmd.Context())
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			switch format {
			case "":
				printInfo(w, info)
				return nil
			case "json":
				return json.NewEncoder(w).Encode(info)
			}
			tmpl, err := template.New("format").Funcs(templateFuncs).Parse(format + "\n")
			if err != nil {
				return usageError("--format %q: %v", format, err)
			}
			return tmpl.Execute(w, info)
		}),
	}
	cmd.Flags().StringVarP(&format, "format", "f", "", `format the output: "json" or a Go template`)
	return cmd
}

// printInfo prints info as docker info's server section does.
func printInfo(w io.Writer, i engine.SystemInfo) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format+"\n", a...) }
	p("Server:")
	p(" Containers: %d", i.Containers)
	p("  Running: %d", i.ContainersRunning)
	p("  Paused: %d", i.ContainersPaused)
	p("  Stopped: %d", i.ContainersStopped)
	p(" Images: %d", i.Images)
	p(" Volumes: %d", i.Volumes)
	p(" Server Version: %s", i.ServerVersion)
	p(" Storage Driver: %s", i.Driver)
	for _, kv := range i.DriverStatus {
		p("  %s: %s", kv[0], kv[1])
	}
	p(" Logging Driver: %s", i.LoggingDriver)
	p(" Cgroup Driver: %s", i.CgroupDriver)
	p(" Cgroup Version: %s", i.CgroupVersion)
	names := make([]string, 0, len(i.Runtimes))
	for n := range i.Runtimes {
		names = append(names, n)
	}
	slices.Sort(names)
	p(" Runtimes: %s", strings.Join(names, " "))
	p(" Default Runtime: %s", i.DefaultRuntime)
	p(" Security Options:")
	for _, o := range i.SecurityOptions {
		name, profile, _ := strings.Cut(strings.TrimPrefix(o, "name="), ",profile=")
		p("  %s", name)
		if profile != "" {
			p("   Profile: %s", profile)
		}
	}
	p(" Kernel Version: %s", i.KernelVersion)
	p(" Operating System: %s", i.OperatingSystem)
	p(" OSType: %s", i.OSType)
	p(" Architecture: %s", i.Architecture)
	p(" CPUs: %d", i.NCPU)
	p(" Total Memory: %s", binarySize(uint64(i.MemTotal)))
	p(" Name: %s", i.Name)
	p(" ID: %s", i.ID)
	p(" Docker Root Dir: %s", i.DockerRootDir)
	p(" Run Root: %s", i.RunRoot)
	p(" Registries Config: %s", i.RegistryConfig.ConfigFile)
	p(" Insecure Registries:")
	for _, c := range i.RegistryConfig.InsecureRegistryCIDRs {
		p("  %s", c)
	}
	for _, r := range i.RegistryConfig.Registries {
		if r.Insecure {
			p("  %s", r.Location)
		}
	}
	if len(i.RegistryConfig.Mirrors) > 0 {
		p(" Registry Mirrors:")
		for _, m := range i.RegistryConfig.Mirrors {
			p("  %s", m)
		}
	}
	for _, warn := range i.Warnings {
		fmt.Fprintln(w, "WARNING:", warn)
	}
}
