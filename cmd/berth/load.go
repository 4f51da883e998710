package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
)

func newLoadCmd(g *globals) *cobra.Command {
	var input string
	var quiet bool
	cmd := &cobra.Command{
		Use:   "load [OPTIONS]",
		Short: "Load images from a tar archive (docker-archive or oci-archive)",
		Long: `Load the images of a tar archive from stdin or -i FILE: docker save and
podman save output (docker-archive), or an OCI image layout in a tar
(oci-archive), plain or gzip-compressed. Every blob is verified.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var r io.Reader = cmd.InOrStdin()
			if input != "" {
				f, err := os.Open(input)
				if err != nil {
					return err
				}
				defer f.Close()
				r = f
			} else if f, ok := r.(*os.File); ok && isTerminal(f) {
				return fmt.Errorf("no archive given: use -i FILE or pipe one to stdin")
			}
			e, err := g.open()
			if err != nil {
				return err
			}
			defer e.Close()
			loaded, err := e.Load(cmd.Context(), r)
			if !quiet {
				for _, l := range loaded {
					// docker's words: "Loaded image: NAME", "Loaded image ID: sha256:…"
					if id, ok := strings.CutPrefix(l, "ID: "); ok {
						fmt.Fprintln(cmd.OutOrStdout(), "Loaded image ID:", id)
					} else {
						fmt.Fprintln(cmd.OutOrStdout(), "Loaded image:", l)
					}
				}
			}
			return err
		},
	}
	cmd.Flags().StringVarP(&input, "input", "i", "", "read from FILE instead of stdin")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "print nothing but errors")
	return cmd
}
