package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"
)

func newRmiCmd(g *globals) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "rmi [OPTIONS] IMAGE [IMAGE...]",
		Short: "Remove images",
		Long: `Remove the names given; an image left with no name is deleted with the
layers no other image uses. An image ID removes every name of that image,
which needs --force when it has several.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			e, err := g.open()
			if err != nil {
				return err
			}
			defer e.Close()
			var errs []error
			for _, a := range args {
				r, err := e.RemoveImage(cmd.Context(), a, force)
				for _, u := range r.Untagged {
					fmt.Fprintln(cmd.OutOrStdout(), "Untagged:", u)
				}
				for _, d := range r.Deleted {
					fmt.Fprintln(cmd.OutOrStdout(), "Deleted:", d)
				}
				if err != nil {
					errs = append(errs, err)
				}
			}
			return errors.Join(errs...)
		},
	}
	cmd.Flags().BoolVarP(&force, "force", "f", false, "remove an image ID with several names")
	return cmd
}
