package main

import (
	"github.com/spf13/cobra"
)

func newTagCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:     "tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]",
		Short:   "Give an image another name",
		Example: `  berth tag busybox 127.0.0.1:5000/tools/busybox:1`,
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			e, err := g.open()
			if err != nil {
				return err
			}
			defer e.Close()
			_, err = e.Tag(args[0], args[1])
			return err
		},
	}
}
