package network

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/cni/pkg/invoke"
	"github.com/containernetworking/cni/pkg/version"
	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/errdefs"
)

// Config says where a Manager finds the plugins and keeps its state.
type Config struct {
	// PluginDirs are searched in order for the plugin binaries
	// (DefaultPluginDirs when empty).
	PluginDirs []string
	// StateDir holds the host-local leases (ipam/<network>/<address>), the
	// CNI result cache (cache/results/<network>-<container>-<ifname>) and
	// the lock. Give a directory on tmpfs, <runroot>/cni: the leases must
	// outlive a crash of berth (the next Detach or Reconcile needs them) but
	// not a reboot, which takes the bridges, veths and iptables rules they
	// describe away with it.
	StateDir string
}

// Manager attaches containers to networks through libcni and cleans up
// after them. Its methods are safe for concurrent use by many processes on
// one StateDir: Attach, Detach and Check share a lock, Reconcile takes it
// alone.
type Manager struct {
	dirs  []string
	state string
	cni   *libcni.CNIConfig
}

// DefaultPluginDirs are where the plugins are installed: bin/cni beside the
// running binary (a build tree: bin/berth and bin/cni/), then
// <prefix>/libexec/berth/cni for a binary in <prefix>/bin, then
// /usr/local/libexec/berth/cni and /usr/libexec/berth/cni.
func DefaultPluginDirs() []string {
	var dirs []string
	if exe, err := os.Executable(); err == nil {
		if exe, err := filepath.EvalSymlinks(exe); err == nil {
			bin := filepath.Dir(exe)
			dirs = append(dirs, filepath.Join(bin, "cni"), filepath.Join(filepath.Dir(bin), "libexec", "berth", "cni"))
		}
	}
	for _, d := range []string{"/usr/local/libexec/berth/cni", "/usr/libexec/berth/cni"} {
		if !contains(dirs, d) {
			dirs = append(dirs, d)
		}
	}
	return dirs
}

// New makes a Manager; StateDir is created.
func New(cfg Config) (*Manager, error) {
	if cfg.StateDir == "" {
		return nil, fmt.Errorf("network: no state directory: %w", errdefs.ErrInvalidArgument)
	}
	if len(cfg.PluginDirs) == 0 {
		cfg.PluginDirs = DefaultPluginDirs()
	}
	if err := os.MkdirAll(cfg.StateDir, 0o700); err != nil {
		return nil, fmt.Errorf("network state %s: %w", cfg.StateDir, err)
	}
	exec := &invoke.DefaultExec{
		// Plugins report errors as JSON on stdout; what they log on stderr
		// (conntrack flush failures and the like) is noise to berth's users.
		RawExec:       &invoke.RawExec{Stderr: io.Discard},
		PluginDecoder: version.PluginDecoder{},
	}
	return &Manager{
		dirs:  cfg.PluginDirs,
		state: cfg.StateDir,
		cni:   libcni.NewCNIConfigWithCacheDir(cfg.PluginDirs, filepath.Join(cfg.StateDir, "cache"), exec),
	}, nil
}

// PluginDirs are the directories the Manager searches.
func (m *Manager) PluginDirs() []string { return m.dirs }

// FindPlugins checks that every plugin a network runs is installed, and
// fails naming the missing ones and where they were looked for.
func (m *Manager) FindPlugins() error {
	var missing []string
	for _, p := range Plugins {
		if _, err := invoke.FindInPath(p, m.dirs); err != nil {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("cni plugin %s not found in %s (make build puts them in bin/cni, make install in <prefix>/libexec/berth/cni): %w",
			strings.Join(missing, ", "), strings.Join(m.dirs, ":"), errdefs.ErrNotFound)
	}
	return nil
}

// lock takes the state lock, shared or exclusive; the returned function
// releases it.
func (m *Manager) lock(exclusive bool) (func(), error) {
	how := unix.LOCK_SH
	if exclusive {
		how = unix.LOCK_EX
	}
	return flock(filepath.Join(m.state, "lock"), how)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
