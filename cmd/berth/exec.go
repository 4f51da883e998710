package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/berth-project/berth/internal/engine"
)

func newExecCmd(g *globals) *cobra.Command {
	var (
		o           engine.ExecOptions
		interactive bool
		envFiles    []string
		env         []string
	)
	cmd := &cobra.Command{
		Use:   "exec [OPTIONS] CONTAINER COMMAND [ARG...]",
		Short: "Run a command in a running container",
		Long: `Run a command in a running container, with its environment, user and working
directory unless -e, -u or -w say otherwise; exit with the command's code
(126 and 127 as docker when it cannot be run or found).`,
		Example: `  berth exec web cat /etc/hostname
  berth exec -it web sh`,
		Args: cobra.MinimumNArgs(2),
		RunE: g.withEngine(func(cmd *cobra.Command, args []string, e *engine.Engine) error {
			o.Args = args[1:]
			var err error
			if o.Env, err = environment(envFiles, env); err != nil {
				return err
			}
			o.Stdout, o.Stderr = os.Stdout, os.Stderr
			if interactive {
				o.Stdin = os.Stdin
			}
			if o.TTY && interactive && term.IsTerminal(int(os.Stdin.Fd())) {
				if old, err := term.MakeRaw(int(os.Stdin.Fd())); err == nil {
					defer term.Restore(int(os.Stdin.Fd()), old)
				}
			}
			code, err := e.Exec(cmd.Context(), args[0], o)
			if err != nil {
				// As run: 127 for a command not found, 126 for one that
				// cannot be run, 125 for the rest.
				if c := startExitCode(err); c != exitEngine {
					fmt.Fprintln(os.Stderr, "Error:", err)
					return exitError{c}
				}
				return err
			}
			return exitStatus(code)
		}),
	}
	f := cmd.Flags()
	f.SetInterspersed(false)
	f.BoolVarP(&interactive, "interactive", "i", false, "keep stdin open")
	f.BoolVarP(&o.TTY, "tty", "t", false, "allocate a terminal")
	f.BoolVarP(&o.Detach, "detach", "d", false, "run in the background")
	f.StringArrayVarP(&env, "env", "e", nil, "set KEY=VALUE")
	f.StringArrayVar(&envFiles, "env-file", nil, "read KEY=VALUE lines from a file")
	f.StringVarP(&o.User, "user", "u", "", "user[:group] to run as")
	f.StringVarP(&o.WorkingDir, "workdir", "w", "", "working directory")
	f.BoolVar(&o.Privileged, "privileged", false, "every capability for this process")
	return cmd
}

func newAttachCmd(g *globals) *cobra.Command {
	var noStdin, sigProxy bool
	var detachKeys string
	cmd := &cobra.Command{
		Use:   "attach [OPTIONS] CONTAINER",
		Short: "Attach to a running container's output (and stdin)",
		Long:  "Attach to a running container: its live output, and stdin when it was started with -i. Detach with ctrl-p ctrl-q on a terminal.",
		Args:  cobra.ExactArgs(1),
		RunE: g.withEngine(func(cmd *cobra.Command, args []string, e *engine.Engine) error {
			c, conn, err := e.Attach(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			code, err := attachIO(cmd.Context(), e, conn, attachOptions{
				stdin: c.OpenStdin && !noStdin, tty: c.TTY, detachKeys: detachKeys, sigProxy: sigProxy, id: c.ID,
			})
			if err == errDetached {
				return nil
			}
			if err != nil {
				return err
			}
			return exitStatus(code)
		}),
	}
	cmd.Flags().BoolVar(&noStdin, "no-stdin", false, "do not attach stdin")
	cmd.Flags().BoolVar(&sigProxy, "sig-proxy", true, "forward signals to the container")
	cmd.Flags().StringVar(&detachKeys, "detach-keys", "", "keys that detach (default ctrl-p,ctrl-q)")
	return cmd
}
