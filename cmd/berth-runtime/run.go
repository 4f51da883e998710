package main

import (
	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/runtime"
)

func newRunCmd(g *globals) *cobra.Command {
	var f createFlags
	var detach, keep bool
	cmd := &cobra.Command{
		Use:   "run [flags] <container-id>",
		Short: "Create and start a container; wait for it unless detached",
		Long: `run creates and starts a container. In the foreground it forwards signals
(and the terminal) to the container's process, deletes the container when
the process exits (unless --keep) and exits with the process's status.`,
		Args: oneID,
		RunE: func(cmd *cobra.Command, args []string) error {
			return exitStatus(g.runtime().Run(runtime.RunOptions{CreateOptions: f.options(args[0]), Detach: detach, Keep: keep}))
		},
	}
	f.register(cmd)
	cmd.Flags().BoolVarP(&detach, "detach", "d", false, "start the container and return")
	cmd.Flags().BoolVar(&keep, "keep", false, "keep the stopped container (do not delete it)")
	return cmd
}
