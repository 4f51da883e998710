package monitor

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/berth-project/berth/internal/errdefs"
)

// The phases of a monitored container (State.Status).
const (
	StatusCreated    = "created"    // created, waiting for a start request
	StatusRunning    = "running"    // its process runs
	StatusRestarting = "restarting" // exited; the restart policy will start it again
	StatusExited     = "exited"     // done: the exit file is written
)

// State is <RunDir>/state.json, rewritten atomically at every transition.
type State struct {
	Status       string    `json:"status"`
	MonitorPid   int       `json:"monitorPid"`
	Pid          int       `json:"pid,omitempty"` // the container's, while created or running
	RestartCount int       `json:"restartCount"`
	StartedAt    time.Time `json:"startedAt,omitzero"`
	FinishedAt   time.Time `json:"finishedAt,omitzero"` // of the last exit
	ExitCode     int       `json:"exitCode"`            // of the last exit
	Error        string    `json:"error,omitempty"`     // why the monitor gave up, if it did
	// LogError is the last failure to write the container log (disk
	// full…); the container runs on and its output is dropped meanwhile.
	LogError string `json:"logError,omitempty"`
}

// Exit is the exit file: written once, atomically, when the container
// is done (no restart follows), before the exit command runs.
type Exit struct {
	// ExitCode is the last process's: its exit status, or 128+n when
	// signal n killed it; 127, 126 or 128 when it could not be started.
	ExitCode     int       `json:"exitCode"`
	ExitedAt     time.Time `json:"exitedAt"`
	RestartCount int       `json:"restartCount"`
	// Error says why the container could not be (re)started, if so.
	Error string `json:"error,omitempty"`
}

// Health is <RunDir>/health.json, as docker's inspect shows .State.Health.
type Health struct {
	Status        string        `json:"Status"` // "starting", "healthy" or "unhealthy"
	FailingStreak int           `json:"FailingStreak"`
	Log           []HealthProbe `json:"Log"` // the last 5 probes, oldest first
}

// HealthProbe is one run of the health check.
type HealthProbe struct {
	Start    time.Time `json:"Start"`
	End      time.Time `json:"End"`
	ExitCode int       `json:"ExitCode"` // -1 when it timed out or could not run
	Output   string    `json:"Output"`   // at most 4096 bytes of stdout and stderr
}

// The health statuses.
const (
	HealthStarting  = "starting"
	HealthHealthy   = "healthy"
	HealthUnhealthy = "unhealthy"
)

// ReadState reads the state file of run directory dir.
func ReadState(dir string) (*State, error) {
	var s State
	return &s, readJSON(filepath.Join(dir, StateFile), &s)
}

// ReadExit reads an exit file (Config.ExitFile); it is NotFound while the
// container is not done.
func ReadExit(path string) (*Exit, error) {
	var e Exit
	return &e, readJSON(path, &e)
}

// ReadHealth reads the health file of run directory dir.
func ReadHealth(dir string) (*Health, error) {
	var h Health
	return &h, readJSON(filepath.Join(dir, HealthFile), &h)
}

func readJSON(path string, v any) error {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s: %w", path, errdefs.ErrNotFound)
	}
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("parse %s: %w", path, err)
	}
	return nil
}

// writeJSON replaces the file at path with v's JSON, atomically (a
// temporary file beside it, renamed over it).
func writeJSON(path string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", path, err)
	}
	return writeAtomic(path, append(data, '\n'))
}

func writeAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
