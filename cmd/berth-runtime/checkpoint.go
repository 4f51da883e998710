package main

import (
	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/runtime"
)

func newCheckpointCmd(g *globals) *cobra.Command {
	var o runtime.CheckpointOptions
	cmd := &cobra.Command{
		Use:   "checkpoint [flags] <container-id>",
		Short: "Checkpoint a running container with CRIU",
		Long: `checkpoint dumps a running container's processes with CRIU (--criu names
the binary) into --image-path. Without --leave-running the container stops
and is deleted, as runc does, so that "restore" can bring it back under the
same id. On failure the container is left as it was and the error names
CRIU's failure and its log (dump.log in --work-path).`,
		Args: oneID,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Criu = g.criu
			return g.runtime().Checkpoint(args[0], o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.ImagePath, "image-path", "", "directory for the checkpoint images (default ./checkpoint)")
	f.StringVar(&o.WorkPath, "work-path", "", "directory for CRIU's log and work files (default the image path)")
	f.BoolVar(&o.LeaveRunning, "leave-running", false, "leave the container running after the checkpoint")
	f.BoolVar(&o.TCPEstablished, "tcp-established", false, "checkpoint established TCP connections")
	f.BoolVar(&o.FileLocks, "file-locks", false, "checkpoint file locks")
	f.BoolVar(&o.ExtUnixSk, "ext-unix-sk", false, "allow unix sockets connected outside the container")
	f.BoolVar(&o.ShellJob, "shell-job", false, "allow a shell job (a controlling terminal outside the container)")
	return cmd
}
