package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

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

// writeFileAtomic writes path through fill: an unnamed file (O_TMPFILE)
// in path's directory, given a name only when fill succeeds, so that a save
// that fails or is killed leaves nothing. Where the filesystem has no
// O_TMPFILE, a temporary file beside path is renamed into place instead.
func writeFileAtomic(path string, fill func(io.Writer) error) error {
	dir := dirOf(path)
	fd, err := unix.Open(dir, unix.O_TMPFILE|unix.O_WRONLY|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return writeFileRenamed(path, fill)
	}
	f := os.NewFile(uintptr(fd), path)
	defer f.Close()
	if err := fill(f); err != nil {
		return err
	}
	if err := f.Chmod(0o644); err != nil {
		return err
	}
	// Link it under a temporary name, then rename over path (linkat
	// cannot replace a file).
	tmp := filepath.Join(dir, fmt.Sprintf(".berth-save-%d-%d", os.Getpid(), time.Now().UnixNano()))
	if err := unix.Linkat(unix.AT_FDCWD, fmt.Sprintf("/proc/self/fd/%d", fd), unix.AT_FDCWD, tmp, unix.AT_SYMLINK_FOLLOW); err != nil {
		return fmt.Errorf("save to %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return f.Close()
}

// writeFileRenamed is writeFileAtomic through a named temporary file.
func writeFileRenamed(path string, fill func(io.Writer) error) error {
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
