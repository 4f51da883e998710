// Command berth-runtime is Berth's OCI runtime: a drop-in for runc, with
// the same verbs, flags and JSON formats, so containerd, Podman and Docker
// can drive it in runc's place.
package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/linux/ns"
	"github.com/berth-project/berth/internal/runtime"
	"github.com/berth-project/berth/internal/runtime/initproc"
)

// version is set by the build (-ldflags "-X main.version=…").
var version = "0.1.0-dev"

type globals struct {
	root          string
	log           string
	logFormat     string
	debug         bool
	systemdCgroup bool
	rootless      string
	criu          string
	logger        *slog.Logger
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "init" {
		// nsenter's constructor has already run, before the Go runtime:
		// it is linked in through internal/runtime (see nsenter's doc).
		initproc.Main()
		return
	}
	g := &globals{}
	root := newRoot(g)
	err := root.Execute()
	if err == nil {
		return
	}
	var ex exitError
	if errors.As(err, &ex) {
		os.Exit(ex.code)
	}
	if g.logger != nil {
		g.logger.Error(err.Error())
	}
	fmt.Fprintln(os.Stderr, "berth-runtime:", err)
	os.Exit(1)
}

// exitError carries a container process's exit code out of run/exec.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// exitStatus turns a container process's exit code (run, exec, restore)
// into the command's result: err, or the code to exit with.
func exitStatus(code int, err error) error {
	if err != nil {
		return err
	}
	if code != 0 {
		return exitError{code}
	}
	return nil
}

func newRoot(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "berth-runtime",
		Short: "An OCI container runtime, compatible with runc",
		Long: `berth-runtime runs containers from OCI bundles (a directory holding
config.json and a root filesystem), following the OCI runtime specification
and runc's command line, so that containerd, Podman and Docker can use it
in place of runc.

A container's life: create → start → (running) → kill → delete, or run for
all of it in one step.`,
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			return g.setup()
		},
	}
	f := cmd.PersistentFlags()
	f.StringVar(&g.root, "root", "", "root directory for container state (default /run/berth-runtime, or $XDG_RUNTIME_DIR/berth-runtime when rootless)")
	f.StringVar(&g.log, "log", "", "write the runtime's log to this file (default stderr)")
	f.StringVar(&g.logFormat, "log-format", "text", "log format: text or json")
	f.BoolVar(&g.debug, "debug", false, "log debug messages")
	f.BoolVar(&g.systemdCgroup, "systemd-cgroup", false, "use the systemd cgroup driver (not supported yet: an error when given)")
	f.StringVar(&g.rootless, "rootless", "auto", "act as an unprivileged user: true, false or auto")
	f.StringVar(&g.criu, "criu", "criu", "path of the criu binary (checkpoint/restore)")
	cmd.AddCommand(
		newSpecCmd(g), newCreateCmd(g), newStartCmd(g), newStateCmd(g), newKillCmd(g),
		newDeleteCmd(g), newRunCmd(g), newListCmd(g), newPsCmd(g), newFeaturesCmd(g),
		newEventsCmd(g), newExecCmd(g), newPauseCmd(g), newResumeCmd(g), newUpdateCmd(g),
		newCheckpointCmd(g), newRestoreCmd(g),
	)
	return cmd
}

func (g *globals) setup() error {
	var w io.Writer = os.Stderr
	if g.log != "" {
		f, err := os.OpenFile(g.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND|os.O_SYNC, 0o644)
		if err != nil {
			return fmt.Errorf("open log %s: %w", g.log, err)
		}
		w = f
	}
	level := slog.LevelInfo
	if g.debug {
		level = slog.LevelDebug
	}
	opts := &slog.HandlerOptions{Level: level, ReplaceAttr: lowerLevel}
	switch g.logFormat {
	case "json":
		g.logger = slog.New(slog.NewJSONHandler(w, opts))
	case "text":
		g.logger = slog.New(slog.NewTextHandler(w, opts))
	default:
		return fmt.Errorf("--log-format %q: want text or json: %w", g.logFormat, errdefs.ErrInvalidArgument)
	}
	if g.log == "" {
		g.logger = nil // errors go to stderr once, from main
	}
	if g.systemdCgroup {
		return fmt.Errorf("--systemd-cgroup: the systemd cgroup driver is not supported yet; use cgroupfs paths: %w", errdefs.ErrNotImplemented)
	}
	switch g.rootless {
	case "auto", "true", "false":
	default:
		return fmt.Errorf("--rootless %q: want true, false or auto: %w", g.rootless, errdefs.ErrInvalidArgument)
	}
	return nil
}

// lowerLevel writes levels as runc (logrus) does: "error", "warning", …,
// which containerd's go-runc reads back from the log file.
func lowerLevel(groups []string, a slog.Attr) slog.Attr {
	if a.Key == slog.LevelKey && len(groups) == 0 {
		l := strings.ToLower(a.Value.String())
		if l == "warn" {
			l = "warning"
		}
		return slog.String("level", l)
	}
	return a
}

func (g *globals) isRootless() bool {
	switch g.rootless {
	case "true":
		return true
	case "false":
		return false
	}
	// As runc: root of a user namespace (a rootless engine's, as Podman's)
	// has no say over the host's cgroups either.
	return os.Geteuid() != 0 || ns.InUserNamespace()
}

func (g *globals) runtime() *runtime.Runtime {
	root := g.root
	if root == "" {
		root = runtime.DefaultRoot
		// (root of a user namespace keeps /run/berth-runtime, its own)
		if os.Geteuid() != 0 || g.rootless == "true" {
			if xdg := os.Getenv("XDG_RUNTIME_DIR"); xdg != "" {
				root = filepath.Join(xdg, "berth-runtime")
			} else {
				root = filepath.Join(os.TempDir(), fmt.Sprintf("berth-runtime-%d", os.Geteuid()))
			}
		}
	}
	logger := g.logger
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{ReplaceAttr: lowerLevel}))
	}
	return &runtime.Runtime{Root: root, Rootless: g.isRootless(), Log: logger}
}

// oneID checks that a verb got exactly the container id.
func oneID(cmd *cobra.Command, args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("%s needs exactly one container id, got %d arguments: %w", cmd.Name(), len(args), errdefs.ErrInvalidArgument)
	}
	return nil
}
