package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/engine"
	"github.com/berth-project/berth/internal/errdefs"
)

func newInspectCmd(g *globals) *cobra.Command {
	var format, typ string
	cmd := &cobra.Command{
		Use:   "inspect [OPTIONS] NAME|ID [NAME|ID...]",
		Short: "Show containers', images' or volumes' details as JSON",
		Long: `Show the details of containers, images or volumes as a JSON array in docker's
field names, or each through the Go template --format. A name is looked up
as a container first, then an image, then a volume, unless --type says which.`,
		Args: cobra.MinimumNArgs(1),
		RunE: g.withEngine(func(cmd *cobra.Command, args []string, e *engine.Engine) error {
			return inspectEach(cmd, args, format, func(s string) (any, error) {
				var err error
				if typ == "" || typ == "container" {
					var c engine.ContainerInspect
					if c, err = e.InspectContainer(cmd.Context(), s); err == nil || typ != "" || !errdefs.IsNotFound(err) {
						return c, err
					}
				}
				if typ == "" || typ == "image" {
					var i engine.ImageInspect
					if i, err = e.InspectImage(cmd.Context(), s); err == nil || typ != "" || !errdefs.IsNotFound(err) {
						return i, err
					}
				}
				if typ == "volume" {
					return e.InspectVolume(s)
				}
				if typ == "" {
					v, err := e.InspectVolume(s)
					if errdefs.IsNotFound(err) {
						// Neither a container, an image nor a volume: say so,
						// not "volume … not found".
						return nil, fmt.Errorf("no such object: %s: %w", s, errdefs.ErrNotFound)
					}
					return v, err
				}
				return nil, usageError("--type %q: want container, image or volume", typ)
			})
		}),
	}
	cmd.Flags().StringVarP(&format, "format", "f", "", "format the output with a Go template")
	cmd.Flags().StringVar(&typ, "type", "", "container, image or volume")
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
		RunE: g.withEngine(func(cmd *cobra.Command, args []string, e *engine.Engine) error {
			return inspectEach(cmd, args, format, func(s string) (any, error) {
				return e.InspectImage(cmd.Context(), s)
			})
		}),
	}
	cmd.Flags().StringVarP(&format, "format", "f", "", "format the output with a Go template")
	return cmd
}

// inspectEach prints what get returns for each argument as docker's
// inspect does: a JSON array (or a template's lines) of what was found,
// then the errors of what was not.
func inspectEach(cmd *cobra.Command, args []string, format string, get func(string) (any, error)) error {
	out := []any{}
	var errs []error
	for _, a := range args {
		v, err := get(a)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, v)
	}
	if len(out) > 0 || format == "" {
		if err := printInspect(cmd.OutOrStdout(), format, out); err != nil {
			return err
		}
	}
	return errors.Join(errs...)
}
