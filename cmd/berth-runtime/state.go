package main

import (
	"encoding/json"
	"os"

	"github.com/spf13/cobra"
)

func newStateCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "state <container-id>",
		Short: "Print a container's state as JSON",
		Args:  oneID,
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := g.runtime().State(args[0])
			if err != nil {
				return err
			}
			return printJSON(st)
		},
	}
}

func printJSON(v any) error {
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
