package monitor

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/berth-project/berth/internal/errdefs"
)

// The files of a run directory (see the package doc).
const (
	ConfigFile    = "monitor.json"  // Config, written by Launch
	PidFile       = "monitor.pid"   // the monitor's pid
	DiagFile      = "monitor.log"   // the monitor's own diagnostics
	RuntimeLog    = "runtime.log"   // the OCI runtime's JSON log
	ContainerPid  = "container.pid" // the container's pid, from the runtime
	StateFile     = "state.json"    // State, rewritten at every transition
	ExitFile      = "exit"          // Exit, written once, when the container is done
	HealthFile    = "health.json"   // Health, when a health check is configured
	AttachSocket  = "attach"        // the attach socket, in SocketDir
	ControlSocket = "ctl"           // the control socket, in SocketDir
)

// Log drivers.
const (
	DriverK8sFile  = "k8s-file"  // CRI: "<time> stdout F <line>", the default
	DriverJSONFile = "json-file" // docker: {"log":"…\n","stream":"stdout","time":"…"}
	DriverNone     = "none"      // no log file (attach still works)
)

// Config is what the engine tells a monitor. Launch writes it as JSON to
// <RunDir>/monitor.json; berth-monitor reads it from there.
type Config struct {
	// ID is the container's id for the runtime.
	ID string `json:"id"`
	// Bundle is the OCI bundle's absolute path. Whether the process has a
	// terminal is the bundle's process.terminal.
	Bundle string `json:"bundle"`
	// RunDir is the container's run directory (absolute): the monitor's
	// files live there and it is the monitor's working directory.
	RunDir string `json:"runDir"`
	// SocketDir holds the attach and control sockets; empty is RunDir.
	SocketDir string `json:"socketDir,omitempty"`
	// Runtime is the OCI runtime binary and its --root.
	Runtime RuntimeConfig `json:"runtime"`
	// Log is where the container's output is written.
	Log LogConfig `json:"log"`
	// Stdin keeps a pipe to the container's stdin open, fed by attach
	// clients (-i). Without it the container's stdin is /dev/null (or the
	// pty, with a terminal).
	Stdin bool `json:"stdin,omitempty"`
	// WaitStart creates the container and waits for a "start" control
	// request before starting it, so that attach clients see all of its
	// output (`start -a`, foreground `run`).
	WaitStart bool `json:"waitStart,omitempty"`
	// ExitFile is where the exit record goes; empty is <RunDir>/exit.
	ExitFile string `json:"exitFile,omitempty"`
	// ExitCommand runs once the container is done (after the exit file is
	// written), e.g. ["berth", "container", "cleanup", "<id>"], with
	// BERTH_CONTAINER_ID and BERTH_EXIT_CODE in its environment.
	ExitCommand []string `json:"exitCommand,omitempty"`
	// Restart is the restart policy.
	Restart RestartPolicy `json:"restart"`
	// Health is the health check, or nil.
	Health *HealthConfig `json:"health,omitempty"`
}

// RuntimeConfig names the OCI runtime.
type RuntimeConfig struct {
	Path string `json:"path"`           // binary (path or name in $PATH)
	Root string `json:"root,omitempty"` // --root
}

// LogConfig is the container log.
type LogConfig struct {
	// Path is the log file; empty is <RunDir>/ctr.log. Rotated files are
	// Path.1 (the newest) … Path.<MaxFiles-1>.
	Path string `json:"path,omitempty"`
	// Driver is DriverK8sFile (default), DriverJSONFile or DriverNone.
	Driver string `json:"driver,omitempty"`
	// MaxSize rotates the file before a record would take it past this
	// many bytes; 0 never rotates.
	MaxSize int64 `json:"maxSize,omitempty"`
	// MaxFiles is how many files to keep, the live one included (docker's
	// max-file); 0 or 1 keeps only the live one.
	MaxFiles int `json:"maxFiles,omitempty"`
}

// RestartPolicy is docker's: Name "no" (or ""), "on-failure" (with at
// most MaximumRetryCount restarts, 0 for no limit), "always" or
// "unless-stopped" (the same for a monitor: the engine tells them apart
// when it starts).
type RestartPolicy struct {
	Name              string `json:"name,omitempty"`
	MaximumRetryCount int    `json:"maximumRetryCount,omitempty"`
}

// HealthConfig is docker's health check. Zero durations take docker's
// defaults: 30s interval and timeout, 5s start interval; 0 retries is 3.
type HealthConfig struct {
	// Test is ["CMD", prog, args…] or ["CMD-SHELL", "command"] (run by
	// /bin/sh -c); ["NONE"] or empty disables the check.
	Test          []string      `json:"test"`
	Interval      time.Duration `json:"interval,omitempty"`
	Timeout       time.Duration `json:"timeout,omitempty"`
	StartPeriod   time.Duration `json:"startPeriod,omitempty"`
	StartInterval time.Duration `json:"startInterval,omitempty"`
	Retries       int           `json:"retries,omitempty"`
}

// ParseRestartPolicy parses --restart: no, always, unless-stopped,
// on-failure or on-failure:N.
func ParseRestartPolicy(s string) (RestartPolicy, error) {
	name, count, hasCount := strings.Cut(s, ":")
	p := RestartPolicy{Name: name}
	switch name {
	case "", "no", "always", "unless-stopped":
		if hasCount {
			return p, fmt.Errorf("restart policy %q: only on-failure takes a retry count: %w", s, errdefs.ErrInvalidArgument)
		}
	case "on-failure":
		if hasCount {
			n, err := strconv.Atoi(count)
			if err != nil || n < 0 {
				return p, fmt.Errorf("restart policy %q: retry count must be a non-negative number: %w", s, errdefs.ErrInvalidArgument)
			}
			p.MaximumRetryCount = n
		}
	default:
		return p, fmt.Errorf("restart policy %q: want no, always, unless-stopped or on-failure[:N]: %w", s, errdefs.ErrInvalidArgument)
	}
	return p, nil
}

// Validate checks c and fills in its defaults.
func (c *Config) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("monitor config: "+format+": %w", append(args, errdefs.ErrInvalidArgument)...)
	}
	switch {
	case c.ID == "":
		return bad("no container id")
	case !filepath.IsAbs(c.Bundle):
		return bad("bundle %q is not an absolute path", c.Bundle)
	case !filepath.IsAbs(c.RunDir):
		return bad("run dir %q is not an absolute path", c.RunDir)
	case c.Runtime.Path == "":
		return bad("no runtime binary")
	case c.Log.MaxSize < 0 || c.Log.MaxFiles < 0:
		return bad("negative log max-size or max-file")
	}
	if _, err := ParseRestartPolicy(c.Restart.Name); err != nil {
		return err
	}
	if c.Restart.MaximumRetryCount < 0 || c.Restart.MaximumRetryCount > 0 && c.Restart.Name != "on-failure" {
		return bad("restart retry count %d with policy %q", c.Restart.MaximumRetryCount, c.Restart.Name)
	}
	switch c.Log.Driver {
	case "":
		c.Log.Driver = DriverK8sFile
	case DriverK8sFile, DriverJSONFile, DriverNone:
	default:
		return bad("log driver %q: want k8s-file, json-file or none", c.Log.Driver)
	}
	if c.Log.Path == "" {
		c.Log.Path = filepath.Join(c.RunDir, "ctr.log")
	}
	if c.SocketDir == "" {
		c.SocketDir = c.RunDir
	}
	if c.ExitFile == "" {
		c.ExitFile = filepath.Join(c.RunDir, ExitFile)
	}
	if h := c.Health; h != nil {
		if len(h.Test) == 0 || h.Test[0] == "NONE" {
			c.Health = nil
			return nil
		}
		switch {
		case h.Test[0] == "CMD" && len(h.Test) > 1, h.Test[0] == "CMD-SHELL" && len(h.Test) == 2:
		default:
			return bad("health test %q: want [CMD prog args…], [CMD-SHELL command] or [NONE]", h.Test)
		}
		if h.Interval < 0 || h.Timeout < 0 || h.StartPeriod < 0 || h.StartInterval < 0 || h.Retries < 0 {
			return bad("negative health check setting")
		}
		if h.Interval == 0 {
			h.Interval = 30 * time.Second
		}
		if h.Timeout == 0 {
			h.Timeout = 30 * time.Second
		}
		if h.StartInterval == 0 {
			h.StartInterval = 5 * time.Second
		}
		if h.Retries == 0 {
			h.Retries = 3
		}
	}
	return nil
}

// ReadConfig reads the config of the monitor of run directory dir.
func ReadConfig(dir string) (*Config, error) {
	p := filepath.Join(dir, ConfigFile)
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("monitor config: %w", err)
	}
	var c Config
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("monitor config %s: %v: %w", p, err, errdefs.ErrInvalidArgument)
	}
	if c.RunDir == "" {
		c.RunDir = dir
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}
