package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/engine"
)

func newVolumeCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "volume", Short: "Manage volumes"}
	cmd.AddCommand(newVolumeCreateCmd(g), newVolumeLsCmd(g), newVolumeInspectCmd(g), newVolumeRmCmd(g), newVolumePruneCmd(g))
	return cmd
}

func newVolumeCreateCmd(g *globals) *cobra.Command {
	var driver string
	var labels []string
	cmd := &cobra.Command{
		Use:   "create [OPTIONS] [VOLUME]",
		Short: "Create a volume (a random name when none is given)",
		Args:  cobra.MaximumNArgs(1),
		RunE: g.withEngine(func(cmd *cobra.Command, args []string, e *engine.Engine) error {
			name := ""
			if len(args) == 1 {
				name = args[0]
			}
			l, err := keyValues("--label", labels)
			if err != nil {
				return err
			}
			v, err := e.CreateVolume(name, driver, l)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), v.Name)
			return nil
		}),
	}
	cmd.Flags().StringVarP(&driver, "driver", "d", "local", "volume driver (only local)")
	cmd.Flags().StringArrayVarP(&labels, "label", "l", nil, "set a label KEY=VALUE")
	return cmd
}

// volumeRow is one volume as `volume ls` formats it.
type volumeRow struct{ Driver, Name, Mountpoint, Labels, Scope string }

func newVolumeLsCmd(g *globals) *cobra.Command {
	var quiet bool
	var format string
	var filters []string
	cmd := &cobra.Command{
		Use:     "ls [OPTIONS]",
		Aliases: []string{"list"},
		Short:   "List volumes (filters: dangling, name, label, driver)",
		Args:    cobra.NoArgs,
		RunE: g.withEngine(func(cmd *cobra.Command, args []string, e *engine.Engine) error {
			vs, err := e.Volumes(filters)
			if err != nil {
				return err
			}
			var rows []any
			for _, v := range vs {
				if quiet {
					fmt.Fprintln(cmd.OutOrStdout(), v.Name)
					continue
				}
				rows = append(rows, volumeRow{Driver: v.Driver, Name: v.Name, Mountpoint: v.Mountpoint, Scope: v.Scope})
			}
			if quiet {
				return nil
			}
			l := lister{format: format, table: `{{.Driver}}\t{{.Name}}`,
				headers: map[string]string{"Driver": "DRIVER", "Name": "VOLUME NAME", "Mountpoint": "MOUNTPOINT", "Labels": "LABELS", "Scope": "SCOPE"}}
			return l.print(cmd.OutOrStdout(), rows)
		}),
	}
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "print only names")
	cmd.Flags().StringVar(&format, "format", "", "format the output: table, json or a Go template")
	cmd.Flags().StringArrayVarP(&filters, "filter", "f", nil, "filter the output")
	return cmd
}

func newVolumeInspectCmd(g *globals) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "inspect [OPTIONS] VOLUME [VOLUME...]",
		Short: "Show volumes' details as JSON",
		Args:  cobra.MinimumNArgs(1),
		RunE: g.withEngine(func(cmd *cobra.Command, args []string, e *engine.Engine) error {
			return inspectEach(cmd, args, format, func(s string) (any, error) { return e.InspectVolume(s) })
		}),
	}
	cmd.Flags().StringVarP(&format, "format", "f", "", "format the output with a Go template")
	return cmd
}

func newVolumeRmCmd(g *globals) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:     "rm [OPTIONS] VOLUME [VOLUME...]",
		Aliases: []string{"remove"},
		Short:   "Remove volumes no container uses",
		Args:    cobra.MinimumNArgs(1),
		RunE: g.withEngine(func(cmd *cobra.Command, args []string, e *engine.Engine) error {
			var errs []error
			for _, a := range args {
				if err := e.RemoveVolume(a, force); err != nil {
					errs = append(errs, err)
					continue
				}
				fmt.Fprintln(cmd.OutOrStdout(), a)
			}
			return errors.Join(errs...)
		}),
	}
	cmd.Flags().BoolVarP(&force, "force", "f", false, "no error for volumes that do not exist")
	return cmd
}

func newVolumePruneCmd(g *globals) *cobra.Command {
	var all, force bool
	cmd := &cobra.Command{
		Use:   "prune [OPTIONS]",
		Short: "Remove anonymous volumes no container uses (with -a, named ones too)",
		Args:  cobra.NoArgs,
		RunE: g.withEngine(func(cmd *cobra.Command, args []string, e *engine.Engine) error {
			removed, err := e.PruneVolumes(cmd.Context(), all)
			if len(removed) > 0 {
				fmt.Fprintln(cmd.OutOrStdout(), "Deleted Volumes:")
				for _, n := range removed {
					fmt.Fprintln(cmd.OutOrStdout(), n)
				}
			}
			return err
		}),
	}
	cmd.Flags().BoolVarP(&all, "all", "a", false, "named volumes too")
	cmd.Flags().BoolVarP(&force, "force", "f", false, "do not prompt (berth never prompts)")
	return cmd
}
