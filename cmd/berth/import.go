package main

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/engine"
)

func newImportCmd(g *globals) *cobra.Command {
	var opts engine.ImportOptions
	cmd := &cobra.Command{
		Use:   "import [OPTIONS] FILE|- [REPOSITORY[:TAG]]",
		Short: "Make an image from a root filesystem tarball",
		Long: `Make a one-layer image from a tarball of a root filesystem (plain, gzip or
zstd), from FILE or stdin ("-"). --change applies Dockerfile instructions to
its config: CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, VOLUME, WORKDIR,
STOPSIGNAL. Prints the new image's ID.`,
		Example: `  tar -C rootfs -c . | berth import --change 'CMD ["/bin/sh"]' - myimage:1`,
		Args:    cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			var r io.Reader
			if args[0] == "-" {
				r = cmd.InOrStdin()
			} else {
				f, err := os.Open(args[0])
				if err != nil {
					return err
				}
				defer f.Close()
				r = f
			}
			opts.Source = args[0]
			if len(args) == 2 {
				opts.Name = args[1]
			}
			e, err := g.open()
			if err != nil {
				return err
			}
			defer e.Close()
			img, err := e.Import(cmd.Context(), r, opts)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), img.Config)
			return nil
		},
	}
	cmd.Flags().StringArrayVarP(&opts.Changes, "change", "c", nil, "apply a Dockerfile instruction to the image's config")
	cmd.Flags().StringVarP(&opts.Message, "message", "m", "", "set the history message of the layer")
	return cmd
}
