package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/berth-project/berth/internal/engine"
	"github.com/berth-project/berth/internal/errdefs"
)

func newRunCmd(g *globals) *cobra.Command {
	var (
		r          runFlags
		detach     bool
		detachKeys string
		sigProxy   bool
		p          pullFlags
	)
	cmd := &cobra.Command{
		Use:   "run [OPTIONS] IMAGE [COMMAND] [ARG...]",
		Short: "Create and start a container",
		Long: `Create a container from IMAGE (pulled first if it is not here) and start it:
in the foreground, attached to its output (and to stdin with -i), exiting with
its exit code; or with -d in the background, printing its ID. A small
berth-monitor process stays with the container: berth itself exits.

Exit codes, as docker's: 125 when berth fails, 126 when the command cannot be
run, 127 when it is not found, else the container's.`,
		Example: `  berth run --rm busybox echo hello
  berth run -d --name web --restart on-failure:3 -v data:/srv busybox httpd -f -p 8080
  berth run -d --name web -p 8080:80 --network app --network-alias www busybox httpd -f -p 80
  berth run -it --rm busybox sh`,
		Args: cobra.MinimumNArgs(1),
		RunE: g.withEngine(func(cmd *cobra.Command, args []string, e *engine.Engine) error {
			c, err := r.create(cmd, e, p, args)
			if err != nil {
				return err
			}
			if detach {
				if _, err := e.Start(cmd.Context(), c.ID); err != nil {
					return startFailed(cmd.Context(), e, c, err)
				}
				fmt.Fprintln(cmd.OutOrStdout(), c.ID)
				return nil
			}
			_, conn, err := e.StartAttached(cmd.Context(), c.ID)
			if err != nil {
				return startFailed(cmd.Context(), e, c, err)
			}
			code, err := attachIO(cmd.Context(), e, conn, attachOptions{
				stdin: r.interactive, tty: r.tty, detachKeys: detachKeys, sigProxy: sigProxy, id: c.ID,
			})
			if errors.Is(err, errDetached) {
				return nil
			}
			if err != nil {
				return err
			}
			if c.AutoRemove {
				// The monitor's cleanup removes it; wait, so that a script's
				// next command does not see it.
				waitGone(cmd.Context(), e, c.ID)
			}
			return exitStatus(code)
		}),
	}
	f := cmd.Flags()
	r.bind(f)
	f.BoolVarP(&detach, "detach", "d", false, "run in the background and print the container's ID")
	f.StringVar(&detachKeys, "detach-keys", "", "keys that detach from the container (default ctrl-p,ctrl-q)")
	f.BoolVar(&sigProxy, "sig-proxy", true, "forward signals to the container (without -t)")
	p.bind(f)
	return cmd
}

// pullFlags are run's and create's flags for the image's pull.
type pullFlags struct {
	policy, platform string
	quiet            bool
}

func (p *pullFlags) bind(f *pflag.FlagSet) {
	f.StringVar(&p.policy, "pull", "missing", "pull the image: missing, always or never")
	f.StringVar(&p.platform, "platform", "", "pull for this platform")
	f.BoolVarP(&p.quiet, "quiet", "q", false, "pull without progress output")
}

// create makes the container that run's and create's flags and arguments
// (IMAGE [COMMAND] [ARG...]) describe, pulling the image first as p says.
func (r *runFlags) create(cmd *cobra.Command, e *engine.Engine, p pullFlags, args []string) (engine.Container, error) {
	r.entrypointSet = cmd.Flags().Changed("entrypoint")
	o, err := r.options(args[0], args[1:])
	if err != nil {
		return engine.Container{}, err
	}
	if err := ensureImage(cmd, e, args[0], p.policy, p.platform, p.quiet); err != nil {
		return engine.Container{}, err
	}
	return e.Create(cmd.Context(), o)
}

// ensureImage pulls image if the policy asks: docker's "Unable to find
// image … locally" then a pull, on stderr.
func ensureImage(cmd *cobra.Command, e *engine.Engine, image, policy, platform string, quiet bool) error {
	switch policy {
	case "missing", "":
		if _, err := e.InspectImage(cmd.Context(), image); err == nil || !errdefs.IsNotFound(err) {
			return err
		}
		fmt.Fprintf(cmd.ErrOrStderr(), "Unable to find image '%s' locally\n", image)
	case "always":
	case "never":
		return nil
	default:
		return usageError("--pull %q: want missing, always or never", policy)
	}
	pcmd := *cmd
	pcmd.SetOut(cmd.ErrOrStderr())
	_, err := pullOne(&pcmd, e, image, platform, quiet)
	return err
}

// startFailed reports a container that could not start, with docker's exit
// code; a --rm container goes.
func startFailed(ctx context.Context, e *engine.Engine, c engine.Container, err error) error {
	if c.AutoRemove {
		e.RemoveContainer(context.Background(), c.ID, engine.RemoveOptions{Force: true, Volumes: true})
	}
	fmt.Fprintln(os.Stderr, "Error:", err)
	return exitError{startExitCode(err)}
}

// waitGone waits (a little) for a container to be removed.
func waitGone(ctx context.Context, e *engine.Engine, id string) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_ = e.WaitRemoved(ctx, id)
}

// exitStatus makes berth exit with the container's code.
func exitStatus(code int) error {
	if code == 0 {
		return nil
	}
	if code < 0 {
		code = exitEngine
	}
	return exitError{code}
}

func newCreateCmd(g *globals) *cobra.Command {
	var (
		r runFlags
		p pullFlags
	)
	cmd := &cobra.Command{
		Use:   "create [OPTIONS] IMAGE [COMMAND] [ARG...]",
		Short: "Create a container without starting it",
		Long:  "Create a container from IMAGE (pulled first if it is not here) and print its ID; `berth start` runs it. The flags are run's.",
		Args:  cobra.MinimumNArgs(1),
		RunE: g.withEngine(func(cmd *cobra.Command, args []string, e *engine.Engine) error {
			c, err := r.create(cmd, e, p, args)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), c.ID)
			return nil
		}),
	}
	r.bind(cmd.Flags())
	p.bind(cmd.Flags())
	return cmd
}
