package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/engine"
)

// newContainerCmd groups the container verbs as `berth container <verb>`.
func newContainerCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "container", Short: "Manage containers"}
	ls := newPsCmd(g)
	ls.Use, ls.Aliases = "ls [OPTIONS]", []string{"list", "ps"}
	inspect := newContainerInspectCmd(g)
	cmd.AddCommand(ls, inspect, newRunCmd(g), newCreateCmd(g), newStartCmd(g), newStopCmd(g),
		newRestartCmd(g), newKillCmd(g), newRmCmd(g), newPauseCmd(g), newUnpauseCmd(g), newWaitCmd(g),
		newExecCmd(g), newAttachCmd(g), newLogsCmd(g), newRenameCmd(g), newContainerPruneCmd(g),
		newCleanupCmd(g), newStatsCmd(g), newTopCmd(g), newCpCmd(g), newPortCmd(g), newUpdateCmd(g))
	return cmd
}

func newContainerInspectCmd(g *globals) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "inspect [OPTIONS] CONTAINER [CONTAINER...]",
		Short: "Show a container's details as JSON",
		Args:  cobra.MinimumNArgs(1),
		RunE: g.withEngine(func(cmd *cobra.Command, args []string, e *engine.Engine) error {
			return inspectEach(cmd, args, format, func(s string) (any, error) {
				return e.InspectContainer(cmd.Context(), s)
			})
		}),
	}
	cmd.Flags().StringVarP(&format, "format", "f", "", "format the output with a Go template")
	return cmd
}

func newContainerPruneCmd(g *globals) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "prune [OPTIONS]",
		Short: "Remove every stopped container",
		Args:  cobra.NoArgs,
		RunE: g.withEngine(func(cmd *cobra.Command, args []string, e *engine.Engine) error {
			removed, err := e.PruneContainers(cmd.Context())
			if len(removed) > 0 {
				fmt.Fprintln(cmd.OutOrStdout(), "Deleted Containers:")
				for _, id := range removed {
					fmt.Fprintln(cmd.OutOrStdout(), id)
				}
			}
			return err
		}),
	}
	cmd.Flags().BoolVarP(&force, "force", "f", false, "do not prompt (berth never prompts)")
	return cmd
}
