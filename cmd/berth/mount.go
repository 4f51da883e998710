package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"
)

func newImageMountCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "mount IMAGE",
		Short: "Mount an image's root filesystem read-only and print where",
		Long: `Mount an image's root filesystem read-only under the runtime root
(<runroot>/image-mounts/<ID>) and print the path, as podman image mount does.
It stays mounted until berth image unmount, or until berth rmi removes the
image; image prune keeps an image that is mounted, and its layers.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			e, err := g.open()
			if err != nil {
				return err
			}
			defer e.Close()
			dir, err := e.MountImage(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), dir)
			return nil
		},
	}
}

func newImageUnmountCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:     "unmount IMAGE [IMAGE...]",
		Aliases: []string{"umount"},
		Short:   "Unmount what berth image mount mounted",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			e, err := g.open()
			if err != nil {
				return err
			}
			defer e.Close()
			var errs []error
			for _, a := range args {
				errs = append(errs, e.UnmountImage(cmd.Context(), a))
			}
			return errors.Join(errs...)
		},
	}
}
