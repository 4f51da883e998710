package main

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/engine"
)

func newSaveCmd(g *globals) *cobra.Command {
	var output, format string
	cmd := &cobra.Command{
		Use:   "save [OPTIONS] IMAGE [IMAGE...]",
		Short: "Write images to a tar archive (docker-archive or oci-archive)",
		Long: `Write one or more images, with their names, to a tar archive on stdout or
-o FILE. docker-archive (the default) is what docker load and podman load
read; oci-archive is an OCI image layout in a tar (skopeo's oci-archive:).`,
		Example: `  berth save -o busybox.tar busybox
  berth save --format oci-archive busybox > busybox-oci.tar`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var w io.Writer = cmd.OutOrStdout()
			if output == "" {
				if f, ok := w.(*os.File); ok && isTerminal(f) {
					return fmt.Errorf("refusing to write an archive to a terminal: use -o FILE or redirect stdout")
				}
			}
			e, err := g.open()
			if err != nil {
				return err
			}
			defer e.Close()
			if output == "" {
				return e.Save(cmd.Context(), w, args, format)
			}
			return writeFileAtomic(output, func(w io.Writer) error {
				return e.Save(cmd.Context(), w, args, format)
			})
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "write to FILE instead of stdout")
	cmd.Flags().StringVar(&format, "format", engine.FormatDockerArchive, "docker-archive or oci-archive")
	return cmd
}

// writeFileAtomic writes path through fill: a temporary file beside it,
// renamed into place only when fill succeeds.
func writeFileAtomic(path string, fill func(io.Writer) error) error {
	f, err := os.CreateTemp(dirOf(path), ".berth-save-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if err := fill(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Chmod(f.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

func dirOf(path string) string {
	for i := len(path) - 1; i >= 0; i-- {
		if path[i] == '/' {
			if i == 0 {
				return "/"
			}
			return path[:i]
		}
	}
	return "."
}
