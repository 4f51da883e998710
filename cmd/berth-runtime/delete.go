package main

import "github.com/spf13/cobra"

func newDeleteCmd(g *globals) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:     "delete [flags] <container-id>",
		Aliases: []string{"rm"},
		Short:   "Delete a stopped container and everything it held",
		Args:    oneID,
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.runtime().Delete(args[0], force)
		},
	}
	cmd.Flags().BoolVarP(&force, "force", "f", false, "kill the container first if it runs")
	return cmd
}
