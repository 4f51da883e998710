package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/engine"
)

func newPushCmd(g *globals) *cobra.Command {
	var quiet bool
	cmd := &cobra.Command{
		Use:   "push [OPTIONS] NAME[:TAG]",
		Short: "Upload an image to a registry",
		Long: `Upload an image — its layers and config, then its manifest, then the tag — to
the registry its name points at. Blobs the registry has already are skipped.
Credentials come from berth login (or docker's and podman's files).`,
		Example: `  berth tag busybox 127.0.0.1:5000/tools/busybox:1
  berth push 127.0.0.1:5000/tools/busybox:1`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			e, err := g.open()
			if err != nil {
				return err
			}
			defer e.Close()
			d := newPushDisplay(cmd.OutOrStdout(), quiet)
			d.Printf("The push refers to repository [%s]", repositoryOf(args[0]))
			r, err := e.Push(cmd.Context(), args[0], engine.PushOptions{Progress: d.update})
			d.Close()
			if err != nil {
				return err
			}
			if !quiet {
				fmt.Fprintf(cmd.OutOrStdout(), "%s: digest: %s size: %d\n", r.Tag, r.Descriptor.Digest, r.Descriptor.Size)
			}
			return nil
		},
	}
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "print nothing but errors")
	return cmd
}
