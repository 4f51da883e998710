package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/runtime"
)

func newKillCmd(g *globals) *cobra.Command {
	var all bool
	cmd := &cobra.Command{
		Use:   "kill [flags] <container-id> [signal]",
		Short: "Send a signal to a container's process (default SIGTERM)",
		Long: `kill sends a signal, by name (KILL, SIGKILL) or number (9), to the
container's process; with --all to every process in its cgroup.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) < 1 || len(args) > 2 {
				return fmt.Errorf("kill needs a container id and an optional signal: %w", errdefs.ErrInvalidArgument)
			}
			sigName := "SIGTERM"
			if len(args) == 2 {
				sigName = args[1]
			}
			sig, err := runtime.ParseSignal(sigName)
			if err != nil {
				return err
			}
			return g.runtime().Kill(args[0], sig, all)
		},
	}
	cmd.Flags().BoolVarP(&all, "all", "a", false, "signal every process of the container")
	return cmd
}
