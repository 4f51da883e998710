package main

import (
	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/runtime"
)

type createFlags struct {
	bundle, pidFile, consoleSocket string
	noPivot, noNewKeyring          bool
	preserveFds                    int
}

func (f *createFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVarP(&f.bundle, "bundle", "b", ".", "bundle directory (holding config.json)")
	fl.StringVar(&f.pidFile, "pid-file", "", "write the container process's pid to this file")
	fl.StringVar(&f.consoleSocket, "console-socket", "", "unix socket that receives the pty master (SCM_RIGHTS) when process.terminal is true")
	fl.BoolVar(&f.noPivot, "no-pivot", false, "use MS_MOVE and chroot instead of pivot_root (for a rootfs on ramfs)")
	fl.BoolVar(&f.noNewKeyring, "no-new-keyring", false, "do not give the container a session keyring of its own")
	fl.IntVar(&f.preserveFds, "preserve-fds", 0, "pass this many fds from 3 on to the container")
}

func (f *createFlags) options(id string) runtime.CreateOptions {
	return runtime.CreateOptions{
		ID: id, Bundle: f.bundle, PidFile: f.pidFile, ConsoleSocket: f.consoleSocket,
		NoPivot: f.noPivot, NoNewKeyring: f.noNewKeyring, PreserveFds: f.preserveFds,
	}
}

func newCreateCmd(g *globals) *cobra.Command {
	var f createFlags
	cmd := &cobra.Command{
		Use:   "create [flags] <container-id>",
		Short: "Create a container; its process waits for start",
		Long: `create sets up the container's namespaces, cgroups and root filesystem from
the bundle and leaves its process waiting: "start" lets it run.`,
		Args: oneID,
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.runtime().Create(f.options(args[0]))
		},
	}
	f.register(cmd)
	return cmd
}
