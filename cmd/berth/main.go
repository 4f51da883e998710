// Command berth is Berth's engine CLI, compatible with docker's and
// podman's: it pulls and keeps images and runs containers, with no daemon
// — every command is a short process over the storage root.
//
// Each verb is one file here: it parses flags and calls internal/engine.
// Errors leave with docker's exit codes: 125 when berth itself fails.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"sync/atomic"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/engine"
	"github.com/berth-project/berth/internal/rootless"
)

// version is set by the build (-ldflags "-X main.version=…").
var version = "0.1.0-dev"

// Exit codes, as docker and podman use them.
const (
	exitEngine = 125 // berth itself failed
)

// globals are the flags every verb shares.
type globals struct {
	cfg engine.Config
}

// open opens the engine the global flags describe.
func (g *globals) open() (*engine.Engine, error) {
	engine.Version = version
	if self, err := os.Executable(); err == nil && g.cfg.CleanupCommand == nil {
		g.cfg.CleanupCommand = []string{self, "--root", g.cfg.Root, "--runroot", g.cfg.RunRoot, "container", "cleanup"}
	}
	return engine.Open(g.cfg)
}

// withEngine is a verb's RunE around fn, with the engine the global flags
// describe open for it.
func (g *globals) withEngine(fn func(cmd *cobra.Command, args []string, e *engine.Engine) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		e, err := g.open()
		if err != nil {
			return err
		}
		defer e.Close()
		return fn(cmd, args, e)
	}
}

func main() {
	if len(os.Args) == 2 && os.Args[1] == rootless.PauseArg {
		rootless.Pause() // never returns
	}
	// An unprivileged user's berth re-executes itself as root of its user
	// and mount namespaces (internal/rootless): no return on success.
	if err := rootless.Ensure(); err != nil {
		fmt.Fprintln(os.Stderr, "Error:", err)
		os.Exit(exitEngine)
	}
	// SIGINT and SIGTERM cancel what the verb waits for (logs -f, events,
	// a pull); berth then exits quietly with 128+signal, as docker does.
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	var got atomic.Value
	go func() {
		s := <-sigs
		got.Store(s)
		cancel()
	}()
	err := newRoot(&globals{}).ExecuteContext(ctx)
	signal.Stop(sigs)
	if err == nil {
		return
	}
	var ex exitError
	if errors.As(err, &ex) {
		os.Exit(ex.code)
	}
	if s, ok := got.Load().(os.Signal); ok && errors.Is(err, context.Canceled) {
		os.Exit(128 + int(s.(syscall.Signal)))
	}
	fmt.Fprintln(os.Stderr, "Error:", err)
	os.Exit(exitEngine)
}

// ifExists returns path when a file is there, else "" (the default).
func ifExists(path string) string {
	if _, err := os.Stat(path); err != nil {
		return ""
	}
	return path
}

// exitError ends berth with code and no message of its own.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func newRoot(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "berth",
		Short: "Pull, keep and run containers — daemonless, docker-compatible",
		Long: `berth runs containers the way docker and podman do, with no daemon: every
command is a short process, and each running container has a small
berth-monitor that holds its output, exit code, restarts and health checks.
Images come from registries into a verified content store, unpacked once per
layer into overlayfs snapshots; they can be saved, loaded, imported and pushed.
Any OCI runtime runs the containers (--runtime); berth-runtime by default.

Storage lives under --root (/var/lib/berth; for an unprivileged user, who
runs as root of a user namespace of their own, ~/.local/share/berth and
--runroot $XDG_RUNTIME_DIR/berth): berth.db (metadata), content/
(blobs by digest), snapshots/<driver>/ (unpacked layers), containers/<id>/
(bundles, logs), volumes/. Runtime files under --runroot (/run/berth).
Settings: /etc/berth/berth.toml (runtimes); registries (mirrors, insecure):
/etc/berth/registries.toml; credentials from ~/.docker/config.json and
containers' auth.json (berth login writes docker's).

Exit codes, as docker's: 125 when berth fails, 126 when a container's command
cannot be run, 127 when it is not found, else the container's.`,
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root, runRoot := engine.DefaultRoot, engine.DefaultRunRoot
	if uid, ok := rootless.HostUID(); ok {
		g.cfg.Rootless = true
		root, runRoot = rootless.DataDir(), rootless.RunDir(uid)
		g.cfg.ConfigFile = ifExists(filepath.Join(rootless.ConfigDir(), "berth.toml"))
		g.cfg.RegistriesConf = ifExists(filepath.Join(rootless.ConfigDir(), "registries.toml"))
	}
	f := cmd.PersistentFlags()
	f.StringVar(&g.cfg.Root, "root", root, "storage root: images, layers, metadata")
	f.StringVar(&g.cfg.RunRoot, "runroot", runRoot, "runtime state root")
	f.StringVar(&g.cfg.StorageDriver, "storage-driver", "", "snapshotter: overlay or native (default: overlay where the filesystem supports it)")
	f.StringVar(&g.cfg.RegistriesConf, "registries-conf", g.cfg.RegistriesConf, "registries config (mirrors, insecure registries); default /etc/berth/registries.toml")
	f.StringVar(&g.cfg.ConfigFile, "config", g.cfg.ConfigFile, "engine settings: default runtime, runtimes by name (default /etc/berth/berth.toml)")
	f.StringVar(&g.cfg.AuthFile, "authfile", "", "credentials file (default: ~/.docker/config.json, then containers' auth.json)")

	image := newImageCmd(g)
	cmd.AddCommand(
		newPullCmd(g), newPushCmd(g), newImagesCmd(g), newTagCmd(g), newRmiCmd(g),
		newInspectCmd(g), newSaveCmd(g), newLoadCmd(g), newImportCmd(g),
		newLoginCmd(g), newLogoutCmd(g), newSystemCmd(g), image,
		newRunCmd(g), newCreateCmd(g), newStartCmd(g), newStopCmd(g), newRestartCmd(g),
		newKillCmd(g), newRmCmd(g), newPsCmd(g), newLogsCmd(g), newExecCmd(g), newAttachCmd(g),
		newWaitCmd(g), newPauseCmd(g), newUnpauseCmd(g), newRenameCmd(g),
		newContainerCmd(g), newVolumeCmd(g), newNetworkCmd(g),
		newStatsCmd(g), newTopCmd(g), newCpCmd(g), newPortCmd(g), newUpdateCmd(g), newEventsCmd(g), newInfoCmd(g),
	)
	return cmd
}

// newImageCmd groups the image verbs as `berth image <verb>`, as docker does.
func newImageCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "image", Short: "Manage images"}
	ls := newImagesCmd(g)
	ls.Use, ls.Aliases = "ls [REPOSITORY[:TAG]]", []string{"list"}
	rm := newRmiCmd(g)
	rm.Use, rm.Aliases = "rm IMAGE [IMAGE...]", []string{"remove"}
	inspect := newImageInspectCmd(g)
	cmd.AddCommand(ls, rm, inspect, newPullCmd(g), newPushCmd(g), newTagCmd(g),
		newSaveCmd(g), newLoadCmd(g), newImportCmd(g), newImagePruneCmd(g),
		newImageMountCmd(g), newImageUnmountCmd(g))
	return cmd
}
