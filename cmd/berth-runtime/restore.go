package main

import (
	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/runtime"
)

func newRestoreCmd(g *globals) *cobra.Command {
	var o runtime.RestoreOptions
	cmd := &cobra.Command{
		Use:   "restore [flags] <container-id>",
		Short: "Restore a container from a CRIU checkpoint",
		Long: `restore creates the container from the checkpoint in --image-path and the
bundle's config.json: CRIU recreates its processes, which go on from where
they were. With --detach it returns once the container runs; otherwise it
waits for the container's process, deletes the container and exits with the
process's status, as "run" does.`,
		Args: oneID,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Criu = g.criu
			return exitStatus(g.runtime().Restore(args[0], o))
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.Bundle, "bundle", "b", ".", "bundle directory (holding config.json)")
	f.StringVar(&o.ImagePath, "image-path", "", "directory of the checkpoint images (default ./checkpoint)")
	f.StringVar(&o.WorkPath, "work-path", "", "directory for CRIU's log and work files (default the image path)")
	f.BoolVarP(&o.Detach, "detach", "d", false, "return once the container runs")
	f.StringVar(&o.PidFile, "pid-file", "", "write the restored process's pid to this file")
	f.StringVar(&o.ConsoleSocket, "console-socket", "", "unix socket for the pty master (terminal containers: not supported yet)")
	f.BoolVar(&o.TCPEstablished, "tcp-established", false, "restore established TCP connections")
	f.BoolVar(&o.FileLocks, "file-locks", false, "restore file locks")
	f.BoolVar(&o.ExtUnixSk, "ext-unix-sk", false, "allow unix sockets connected outside the container")
	f.BoolVar(&o.ShellJob, "shell-job", false, "allow a shell job (a controlling terminal outside the container)")
	return cmd
}
