package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/engine"
)

func newUpdateCmd(g *globals) *cobra.Command {
	var (
		memory, memorySwap, cpusetCpus, cpusetMems, restart string
		cpus                                                float64
		cpuShares                                           uint64
		pidsLimit                                           int64
	)
	cmd := &cobra.Command{
		Use:   "update [OPTIONS] CONTAINER [CONTAINER...]",
		Short: "Change the resource limits or restart policy of containers",
		Long: `Change the resource limits of containers: a running container's cgroup at
once (through its OCI runtime's update), and its configuration for every
later start. Sizes take docker's units (512m, 1g); -1 lifts a memory limit;
--cpus 0 lifts the CPU quota; --pids-limit 0 or -1 lifts the process limit.

--restart changes the restart policy in the container's record; a running
container's monitor keeps the policy it started with, so the new one takes
effect at the container's next start. A container run with --rm takes no
restart policy.`,
		Args: cobra.MinimumNArgs(1),
		RunE: g.withEngine(func(cmd *cobra.Command, args []string, e *engine.Engine) error {
			var o engine.UpdateOptions
			fl := cmd.Flags()
			for _, s := range []struct {
				flag, v string
				dst     **int64
			}{{"memory", memory, &o.Memory}, {"memory-swap", memorySwap, &o.MemorySwap}} {
				if !fl.Changed(s.flag) {
					continue
				}
				n := int64(-1)
				if s.v != "-1" {
					var err error
					if n, err = parseSize(s.v); err != nil {
						return usageError("--%s %s: %v", s.flag, s.v, err)
					}
				}
				*s.dst = &n
			}
			if fl.Changed("cpus") {
				o.CPUs = &cpus
			}
			if fl.Changed("cpu-shares") {
				o.CPUShares = &cpuShares
			}
			if fl.Changed("cpuset-cpus") {
				o.CpusetCpus = &cpusetCpus
			}
			if fl.Changed("cpuset-mems") {
				o.CpusetMems = &cpusetMems
			}
			if fl.Changed("pids-limit") {
				o.PidsLimit = &pidsLimit
			}
			if fl.Changed("restart") {
				o.Restart = &restart
			}
			if o.IsZero() {
				return usageError("you must provide one or more flags when using this command")
			}
			return eachContainer(cmd, args, func(ctx context.Context, s string) error {
				_, err := e.Update(ctx, s, o)
				return err
			})
		}),
	}
	f := cmd.Flags()
	f.StringVarP(&memory, "memory", "m", "", "memory limit (e.g. 512m; -1 unlimited)")
	f.StringVar(&memorySwap, "memory-swap", "", "memory+swap limit (-1 unlimited)")
	f.Float64Var(&cpus, "cpus", 0, "number of CPUs (0: no quota)")
	f.Uint64VarP(&cpuShares, "cpu-shares", "c", 0, "CPU shares (relative weight)")
	f.StringVar(&cpusetCpus, "cpuset-cpus", "", "CPUs to run on (0-3, 0,1)")
	f.StringVar(&cpusetMems, "cpuset-mems", "", "memory nodes to use")
	f.Int64Var(&pidsLimit, "pids-limit", 0, "process limit (0 or -1 unlimited)")
	f.StringVar(&restart, "restart", "", "restart policy (no, on-failure[:N], always, unless-stopped), from the next start")
	return cmd
}
