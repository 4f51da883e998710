package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/linux/seccomp"
	"github.com/berth-project/berth/internal/spec"
)

func newSpecCmd(g *globals) *cobra.Command {
	var bundle string
	var rootless bool
	cmd := &cobra.Command{
		Use:   "spec",
		Short: "Write a new config.json for a bundle",
		Long: `spec writes config.json into the bundle directory: a container running "sh"
in a terminal with the rootfs at "rootfs", the capabilities of runc's spec and
Docker's default seccomp profile. Edit it to taste. With --rootless the spec
maps the current user to root in a user namespace.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			s := spec.Default()
			// Docker's default seccomp profile, for the spec's capabilities.
			s.Linux.Seccomp = seccomp.DefaultProfile(s.Process.Capabilities.Bounding)
			if rootless {
				spec.Rootless(s, uint32(os.Geteuid()), uint32(os.Getegid()))
			}
			path := filepath.Join(bundle, "config.json")
			if _, err := os.Stat(path); err == nil {
				return fmt.Errorf("%s exists: remove it first: %w", path, errdefs.ErrAlreadyExists)
			}
			data, err := json.MarshalIndent(s, "", "\t")
			if err != nil {
				return err
			}
			f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
			if err != nil {
				return fmt.Errorf("write %s: %w", path, err)
			}
			if _, err := f.Write(append(data, '\n')); err != nil {
				f.Close()
				return fmt.Errorf("write %s: %w", path, err)
			}
			return f.Close()
		},
	}
	cmd.Flags().StringVarP(&bundle, "bundle", "b", ".", "bundle directory")
	cmd.Flags().BoolVar(&rootless, "rootless", false, "a spec for an unprivileged user")
	return cmd
}
