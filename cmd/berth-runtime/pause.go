package main

import "github.com/spf13/cobra"

func newPauseCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "pause <container-id>",
		Short: "Freeze every process of a running container",
		Args:  oneID,
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.runtime().Pause(args[0])
		},
	}
}

func newResumeCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "resume <container-id>",
		Short: "Thaw a paused container",
		Args:  oneID,
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.runtime().Resume(args[0])
		},
	}
}
