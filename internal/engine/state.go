package engine

import (
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/berth-project/berth/internal/monitor"
	"github.com/berth-project/berth/internal/ociruntime"
)

// State is a container's state as docker's inspect shows it (.State).
type State struct {
	Status       string          `json:"Status"` // created, running, paused, restarting, exited
	Running      bool            `json:"Running"`
	Paused       bool            `json:"Paused"`
	Restarting   bool            `json:"Restarting"`
	OOMKilled    bool            `json:"OOMKilled"`
	Dead         bool            `json:"Dead"`
	Pid          int             `json:"Pid"`
	ExitCode     int             `json:"ExitCode"`
	Error        string          `json:"Error"`
	StartedAt    time.Time       `json:"StartedAt"`
	FinishedAt   time.Time       `json:"FinishedAt"`
	RestartCount int             `json:"RestartCount"`
	Health       *monitor.Health `json:"Health,omitempty"`
	// LogError is Berth's own: the last failure to write the container's
	// log (a full disk), while the monitor runs; its output is dropped
	// meanwhile, the container runs on.
	LogError string `json:"LogError,omitempty"`
	// MonitorPid is the container's berth-monitor, 0 when none runs.
	MonitorPid int `json:"MonitorPid,omitempty"`
}

// Statuses.
const (
	StatusCreated    = "created"
	StatusRunning    = "running"
	StatusPaused     = "paused"
	StatusRestarting = "restarting"
	StatusExited     = "exited"
)

// State reads the truth about c: the monitor's files while it lives, its
// exit record once it is done, and the OCI runtime's state when the monitor
// is gone without one (killed: the container may still run).
func (e *Engine) State(ctx context.Context, c Container) State {
	st := State{Status: StatusCreated}
	run := e.runDir(c.ID)
	if ms, err := monitor.ReadState(run); err == nil {
		st.Status, st.Pid = ms.Status, ms.Pid
		st.StartedAt, st.FinishedAt = ms.StartedAt, ms.FinishedAt
		st.ExitCode, st.RestartCount, st.Error = ms.ExitCode, ms.RestartCount, ms.Error
		st.LogError = ms.LogError
	}
	if h, err := monitor.ReadHealth(run); err == nil {
		st.Health = h
	}
	if ex, err := monitor.ReadExit(e.exitFile(c.ID)); err == nil {
		st.Status, st.Pid = StatusExited, 0
		st.ExitCode, st.FinishedAt, st.RestartCount, st.Error = ex.ExitCode, ex.ExitedAt, ex.RestartCount, ex.Error
		return st.flags()
	}
	st.MonitorPid = pidAlive(run + "/" + monitor.PidFile)
	if st.MonitorPid == 0 && st.Status != StatusCreated || st.Status == StatusRunning {
		// Ask the runtime: a monitor killed with SIGKILL wrote no exit
		// record, and a running container may be paused.
		rs, err := e.runtimeFor(c).State(ctx, c.ID)
		switch {
		case err == nil && rs.Status == "running":
			st.Status, st.Pid = StatusRunning, rs.Pid
		case err == nil && rs.Status == "paused":
			st.Status, st.Pid = StatusPaused, rs.Pid
		case st.MonitorPid == 0:
			st.Status, st.Pid = StatusExited, 0
			if st.Error == "" {
				st.Error = "the container's monitor died before it exited"
				st.ExitCode = -1
			}
		}
	}
	return st.flags()
}

func (st State) flags() State {
	st.Running = st.Status == StatusRunning || st.Status == StatusPaused
	st.Paused = st.Status == StatusPaused
	st.Restarting = st.Status == StatusRestarting
	return st
}

// runtimeFor is c's OCI runtime, rooted where the engine keeps its state.
func (e *Engine) runtimeFor(c Container) *ociruntime.Runtime {
	return &ociruntime.Runtime{Path: c.Runtime, Root: e.runtimeRoot(c.RuntimeName)}
}

// pidAlive returns the pid in pidFile if that process runs, else 0.
func pidAlive(pidFile string) int {
	b, err := os.ReadFile(pidFile)
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0
	}
	if _, err := os.Stat("/proc/" + strconv.Itoa(pid)); errors.Is(err, os.ErrNotExist) {
		return 0
	}
	// A zombie or a recycled pid is not our monitor.
	if cmd, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline"); err != nil || !strings.Contains(string(cmd), "berth-monitor") {
		return 0
	}
	return pid
}
