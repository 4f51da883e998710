package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/errdefs"
)

func newUpdateCmd(g *globals) *cobra.Command {
	var (
		resources                             string
		memory, memoryReservation, memorySwap int64
		cpuShares                             uint64
		cpuQuota                              int64
		cpuPeriod                             uint64
		cpusetCpus, cpusetMems                string
		pidsLimit                             int64
		blkioWeight                           uint16
	)
	cmd := &cobra.Command{
		Use:   "update [flags] <container-id>",
		Short: "Change the resource limits of a container",
		Long: `update changes the cgroup limits of a created, running or paused container,
from the flags or from a runtime-spec linux.resources JSON (-r FILE, or -r -
for stdin).`,
		Args: oneID,
		RunE: func(cmd *cobra.Command, args []string) error {
			res := &specs.LinuxResources{}
			if resources != "" {
				var data []byte
				var err error
				if resources == "-" {
					data, err = io.ReadAll(os.Stdin)
				} else {
					data, err = os.ReadFile(resources)
				}
				if err != nil {
					return fmt.Errorf("read resources %s: %w", resources, err)
				}
				if err := json.Unmarshal(data, res); err != nil {
					return fmt.Errorf("parse resources %s: %v: %w", resources, err, errdefs.ErrInvalidArgument)
				}
			}
			fl := cmd.Flags()
			mem := func() *specs.LinuxMemory {
				if res.Memory == nil {
					res.Memory = &specs.LinuxMemory{}
				}
				return res.Memory
			}
			cpu := func() *specs.LinuxCPU {
				if res.CPU == nil {
					res.CPU = &specs.LinuxCPU{}
				}
				return res.CPU
			}
			if fl.Changed("memory") {
				mem().Limit = &memory
			}
			if fl.Changed("memory-reservation") {
				mem().Reservation = &memoryReservation
			}
			if fl.Changed("memory-swap") {
				mem().Swap = &memorySwap
			}
			if fl.Changed("cpu-shares") {
				cpu().Shares = &cpuShares
			}
			if fl.Changed("cpu-quota") {
				cpu().Quota = &cpuQuota
			}
			if fl.Changed("cpu-period") {
				cpu().Period = &cpuPeriod
			}
			if fl.Changed("cpuset-cpus") {
				cpu().Cpus = cpusetCpus
			}
			if fl.Changed("cpuset-mems") {
				cpu().Mems = cpusetMems
			}
			if fl.Changed("pids-limit") {
				res.Pids = &specs.LinuxPids{Limit: &pidsLimit}
			}
			if fl.Changed("blkio-weight") {
				res.BlockIO = &specs.LinuxBlockIO{Weight: &blkioWeight}
			}
			return g.runtime().Update(args[0], res)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&resources, "resources", "r", "", "linux.resources JSON file, or - for stdin")
	f.Int64Var(&memory, "memory", 0, "memory limit in bytes")
	f.Int64Var(&memoryReservation, "memory-reservation", 0, "memory soft limit in bytes")
	f.Int64Var(&memorySwap, "memory-swap", 0, "memory plus swap limit in bytes (-1: unlimited)")
	f.Uint64Var(&cpuShares, "cpu-shares", 0, "CPU shares (relative weight)")
	f.Int64Var(&cpuQuota, "cpu-quota", 0, "CPU CFS quota in microseconds per period")
	f.Uint64Var(&cpuPeriod, "cpu-period", 0, "CPU CFS period in microseconds")
	f.StringVar(&cpusetCpus, "cpuset-cpus", "", "CPUs the container may use (0-3, 0,1)")
	f.StringVar(&cpusetMems, "cpuset-mems", "", "memory nodes the container may use")
	f.Int64Var(&pidsLimit, "pids-limit", 0, "maximum number of processes")
	f.Uint16Var(&blkioWeight, "blkio-weight", 0, "block IO weight (10-1000)")
	return cmd
}
