package main

import "github.com/spf13/cobra"

func newStartCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "start <container-id>",
		Short: "Start a created container's process",
		Args:  oneID,
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.runtime().Start(args[0])
		},
	}
}
