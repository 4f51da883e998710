package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/engine"
	"github.com/berth-project/berth/internal/spec"
)

// eachContainer runs fn for every argument, printing what docker prints
// (the argument) on success and collecting the errors.
func eachContainer(cmd *cobra.Command, args []string, fn func(ctx context.Context, s string) error) error {
	var errs []error
	for _, a := range args {
		if err := fn(cmd.Context(), a); err != nil {
			errs = append(errs, err)
			continue
		}
		fmt.Fprintln(cmd.OutOrStdout(), a)
	}
	return errors.Join(errs...)
}

func newStartCmd(g *globals) *cobra.Command {
	var attach, interactive bool
	var detachKeys string
	cmd := &cobra.Command{
		Use:   "start [OPTIONS] CONTAINER [CONTAINER...]",
		Short: "Start created or stopped containers",
		Long:  "Start containers (again); with -a, attach to the one container's output and exit with its code.",
		Args:  cobra.MinimumNArgs(1),
		RunE: g.withEngine(func(cmd *cobra.Command, args []string, e *engine.Engine) error {
			if !attach {
				return eachContainer(cmd, args, func(ctx context.Context, s string) error {
					_, err := e.Start(ctx, s)
					return err
				})
			}
			if len(args) != 1 {
				return usageError("start -a takes one container")
			}
			c, conn, err := e.StartAttached(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			code, err := attachIO(cmd.Context(), e, conn, attachOptions{
				stdin: interactive && c.OpenStdin, tty: c.TTY, detachKeys: detachKeys, sigProxy: true, id: c.ID,
			})
			if errors.Is(err, errDetached) {
				return nil
			}
			if err != nil {
				return err
			}
			return exitStatus(code)
		}),
	}
	cmd.Flags().BoolVarP(&attach, "attach", "a", false, "attach to the container's output")
	cmd.Flags().BoolVarP(&interactive, "interactive", "i", false, "attach stdin too")
	cmd.Flags().StringVar(&detachKeys, "detach-keys", "", "keys that detach (default ctrl-p,ctrl-q)")
	return cmd
}

func newStopCmd(g *globals) *cobra.Command {
	var timeout int
	cmd := &cobra.Command{
		Use:   "stop [OPTIONS] CONTAINER [CONTAINER...]",
		Short: "Stop running containers",
		Long:  "Send the container's stop signal (SIGTERM unless --stop-signal said otherwise), then SIGKILL after the timeout. A stopped container is not restarted by its restart policy.",
		Args:  cobra.MinimumNArgs(1),
		RunE: g.withEngine(func(cmd *cobra.Command, args []string, e *engine.Engine) error {
			t := timeout
			if !cmd.Flags().Changed("time") {
				t = -1
			}
			return eachContainer(cmd, args, func(ctx context.Context, s string) error {
				_, err := e.Stop(ctx, s, t)
				return err
			})
		}),
	}
	cmd.Flags().IntVarP(&timeout, "time", "t", 0, "seconds to wait before SIGKILL (default: the container's --stop-timeout, else 10)")
	return cmd
}

func newRestartCmd(g *globals) *cobra.Command {
	var timeout int
	cmd := &cobra.Command{
		Use:   "restart [OPTIONS] CONTAINER [CONTAINER...]",
		Short: "Stop and start containers",
		Args:  cobra.MinimumNArgs(1),
		RunE: g.withEngine(func(cmd *cobra.Command, args []string, e *engine.Engine) error {
			t := timeout
			if !cmd.Flags().Changed("time") {
				t = -1
			}
			return eachContainer(cmd, args, func(ctx context.Context, s string) error {
				if _, err := e.Stop(ctx, s, t); err != nil {
					return err
				}
				_, err := e.Start(ctx, s)
				return err
			})
		}),
	}
	cmd.Flags().IntVarP(&timeout, "time", "t", 0, "seconds to wait before SIGKILL (default: the container's --stop-timeout, else 10)")
	return cmd
}

func newKillCmd(g *globals) *cobra.Command {
	var signal string
	cmd := &cobra.Command{
		Use:   "kill [OPTIONS] CONTAINER [CONTAINER...]",
		Short: "Send a signal to running containers (default SIGKILL)",
		Args:  cobra.MinimumNArgs(1),
		RunE: g.withEngine(func(cmd *cobra.Command, args []string, e *engine.Engine) error {
			sig, err := parseSignal(signal)
			if err != nil {
				return err
			}
			return eachContainer(cmd, args, func(ctx context.Context, s string) error {
				_, err := e.Kill(ctx, s, sig)
				return err
			})
		}),
	}
	cmd.Flags().StringVarP(&signal, "signal", "s", "KILL", "signal: a name (TERM, SIGHUP) or a number")
	return cmd
}

// parseSignal reads a signal by name (with or without SIG) or number.
func parseSignal(s string) (syscall.Signal, error) {
	if n, err := strconv.Atoi(s); err == nil && n > 0 && n < 65 {
		return syscall.Signal(n), nil
	}
	name := strings.ToUpper(s)
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	_, n, err := spec.ParseSignal(name)
	if err != nil {
		return 0, usageError("signal %q: %v", s, err)
	}
	return syscall.Signal(n), nil
}

func newPauseCmd(g *globals) *cobra.Command {
	return eachContainerCmd(g, "pause", "Freeze every process of containers", (*engine.Engine).Pause)
}

func newUnpauseCmd(g *globals) *cobra.Command {
	return eachContainerCmd(g, "unpause", "Thaw paused containers", (*engine.Engine).Unpause)
}

// eachContainerCmd is a verb without flags that applies op to each
// container named, printing each name as docker does.
func eachContainerCmd(g *globals, verb, short string, op func(*engine.Engine, context.Context, string) (engine.Container, error)) *cobra.Command {
	return &cobra.Command{
		Use:   verb + " CONTAINER [CONTAINER...]",
		Short: short,
		Args:  cobra.MinimumNArgs(1),
		RunE: g.withEngine(func(cmd *cobra.Command, args []string, e *engine.Engine) error {
			return eachContainer(cmd, args, func(ctx context.Context, s string) error {
				_, err := op(e, ctx, s)
				return err
			})
		}),
	}
}

func newWaitCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "wait CONTAINER [CONTAINER...]",
		Short: "Wait for containers to exit and print their exit codes",
		Args:  cobra.MinimumNArgs(1),
		RunE: g.withEngine(func(cmd *cobra.Command, args []string, e *engine.Engine) error {
			var errs []error
			for _, a := range args {
				code, err := e.Wait(cmd.Context(), a)
				if err != nil {
					errs = append(errs, err)
					continue
				}
				fmt.Fprintln(cmd.OutOrStdout(), code)
			}
			return errors.Join(errs...)
		}),
	}
}

func newRmCmd(g *globals) *cobra.Command {
	var o engine.RemoveOptions
	cmd := &cobra.Command{
		Use:   "rm [OPTIONS] CONTAINER [CONTAINER...]",
		Short: "Remove containers",
		Long:  "Remove stopped containers with their root filesystems; -f kills running ones first; -v removes their anonymous volumes too.",
		Args:  cobra.MinimumNArgs(1),
		RunE: g.withEngine(func(cmd *cobra.Command, args []string, e *engine.Engine) error {
			return eachContainer(cmd, args, func(ctx context.Context, s string) error {
				_, err := e.RemoveContainer(ctx, s, o)
				return err
			})
		}),
	}
	cmd.Flags().BoolVarP(&o.Force, "force", "f", false, "kill a running container first")
	cmd.Flags().BoolVarP(&o.Volumes, "volumes", "v", false, "remove the container's anonymous volumes")
	return cmd
}

func newRenameCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "rename CONTAINER NEW_NAME",
		Short: "Rename a container",
		Args:  cobra.ExactArgs(2),
		RunE: g.withEngine(func(cmd *cobra.Command, args []string, e *engine.Engine) error {
			return e.Rename(args[0], args[1])
		}),
	}
}

func newCleanupCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:    "cleanup CONTAINER",
		Short:  "Release what an exited container holds (run by its monitor)",
		Hidden: true,
		Args:   cobra.ExactArgs(1),
		RunE: g.withEngine(func(cmd *cobra.Command, args []string, e *engine.Engine) error {
			return e.Cleanup(cmd.Context(), args[0])
		}),
	}
}
