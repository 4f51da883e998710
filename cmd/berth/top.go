package main

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/engine"
)

func newTopCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "top CONTAINER [ps OPTIONS]",
		Short: "Show the processes of a running container",
		Long: `Show the processes of a running container as the host sees them: berth runs
the host's ps with the options given (default -ef) and keeps the lines of the
container's processes (its OCI runtime's ps), as docker does. The output must
have a PID column; renaming another column to PID (-o user=PID) is refused.`,
		Args: cobra.MinimumNArgs(1),
		RunE: g.withEngine(func(cmd *cobra.Command, args []string, e *engine.Engine) error {
			var psArgs []string
			if len(args) > 1 {
				// docker joins the options and splits them again on spaces.
				psArgs = strings.Fields(strings.Join(args[1:], " "))
			}
			res, err := e.Top(cmd.Context(), args[0], psArgs)
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 20, 1, 3, ' ', 0)
			fmt.Fprintln(w, strings.Join(res.Titles, "\t"))
			for _, p := range res.Processes {
				fmt.Fprintln(w, strings.Join(p, "\t"))
			}
			return w.Flush()
		}),
	}
	// ps's options follow the container name: they are not berth's flags.
	cmd.Flags().SetInterspersed(false)
	return cmd
}
