package main

import (
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/runtime"
)

func newListCmd(g *globals) *cobra.Command {
	var format string
	var quiet bool
	cmd := &cobra.Command{
		Use:     "list [flags]",
		Aliases: []string{"ls"},
		Short:   "List the containers under --root",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			list, err := g.runtime().List()
			if err != nil {
				return err
			}
			if quiet {
				for _, c := range list {
					fmt.Println(c.State.ID)
				}
				return nil
			}
			states := make([]runtime.OCIState, 0, len(list))
			for _, c := range list {
				st := c.OCI()
				if st.Owner == "" {
					st.Owner = "root"
				}
				states = append(states, st)
			}
			switch format {
			case "json":
				return printJSON(states)
			case "table":
				w := tabwriter.NewWriter(os.Stdout, 12, 1, 3, ' ', 0)
				fmt.Fprint(w, "ID\tPID\tSTATUS\tBUNDLE\tCREATED\tOWNER\n")
				for _, s := range states {
					fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\t%s\n", s.ID, s.Pid, s.Status, s.Bundle, s.Created.Format(time.RFC3339Nano), s.Owner)
				}
				return w.Flush()
			}
			return fmt.Errorf("--format %q: want table or json: %w", format, errdefs.ErrInvalidArgument)
		},
	}
	cmd.Flags().StringVarP(&format, "format", "f", "table", "output format: table or json")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "print the ids only")
	return cmd
}
