package main

import (
	"errors"

	"github.com/spf13/cobra"
)

func newInspectCmd(g *globals) *cobra.Command {
	cmd := newImageInspectCmd(g)
	cmd.Use = "inspect [OPTIONS] NAME|ID [NAME|ID...]"
	cmd.Short = "Show low-level information on objects (images)"
	return cmd
}

func newImageInspectCmd(g *globals) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "inspect [OPTIONS] IMAGE [IMAGE...]",
		Short: "Show an image's details as JSON",
		Long: `Show images' details as a JSON array in docker's field names (Id, RepoTags,
RepoDigests, Created, Config, Architecture, Os, Size, RootFS, …), or each
through the Go template --format ('{{.Id}}', '{{json .Config}}').`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			e, err := g.open()
			if err != nil {
				return err
			}
			defer e.Close()
			out := []any{}
			var errs []error
			for _, a := range args {
				i, err := e.InspectImage(cmd.Context(), a)
				if err != nil {
					errs = append(errs, err)
					continue
				}
				out = append(out, i)
			}
			if len(out) > 0 || format == "" {
				if err := printInspect(cmd.OutOrStdout(), format, out); err != nil {
					return err
				}
			}
			return errors.Join(errs...)
		},
	}
	cmd.Flags().StringVarP(&format, "format", "f", "", "format the output with a Go template")
	return cmd
}
