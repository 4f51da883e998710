package monitor

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/ociruntime"
)

// Docker's limits on what a health check keeps.
const (
	healthLogLen    = 5    // probes kept in the health file
	healthOutputLen = 4096 // bytes of output kept per probe
)

// healthLoop runs the health check every interval until ctx ends,
// recording each probe in the health file (docker's rules: a failure in
// the start period does not count while the container is still
// "starting"; Retries consecutive failures make it "unhealthy"; one
// success makes it "healthy").
func (m *monitor) healthLoop(ctx context.Context, done chan<- struct{}) {
	defer close(done)
	hc := m.cfg.Health
	h := Health{Status: HealthStarting, Log: []HealthProbe{}}
	m.writeHealth(&h)
	began := time.Now()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		inStart := hc.StartPeriod > 0 && time.Since(began) < hc.StartPeriod
		wait := hc.Interval
		if inStart && h.Status == HealthStarting {
			wait = hc.StartInterval
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		p := m.probe(ctx)
		if ctx.Err() != nil {
			return // the container is going: no verdict
		}
		inStart = hc.StartPeriod > 0 && p.Start.Sub(began) < hc.StartPeriod
		switch {
		case p.ExitCode == 0:
			h.Status, h.FailingStreak = HealthHealthy, 0
		case inStart && h.Status == HealthStarting:
			// not counted
		default:
			h.FailingStreak++
			if h.FailingStreak >= hc.Retries {
				h.Status = HealthUnhealthy
			}
		}
		h.Log = append(h.Log, p)
		if len(h.Log) > healthLogLen {
			h.Log = h.Log[len(h.Log)-healthLogLen:]
		}
		m.writeHealth(&h)
	}
}

func (m *monitor) writeHealth(h *Health) {
	if err := writeJSON(filepath.Join(m.cfg.RunDir, HealthFile), h); err != nil {
		m.logf("%v", err)
	}
}

// probe runs the health check once in the container (`exec --detach`,
// so that the monitor reaps it and can kill it when it takes too long).
func (m *monitor) probe(ctx context.Context) (res HealthProbe) {
	hc := m.cfg.Health
	res = HealthProbe{Start: time.Now(), ExitCode: -1}
	defer func() { res.End = time.Now() }()
	var p specs.Process
	if err := json.Unmarshal(m.process, &p); err != nil {
		res.Output = err.Error()
		return res
	}
	p.Terminal, p.ConsoleSize = false, nil
	if hc.Test[0] == "CMD-SHELL" {
		p.Args = []string{"/bin/sh", "-c", hc.Test[1]}
	} else {
		p.Args = hc.Test[1:]
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		res.Output = err.Error()
		return res
	}
	out := make(chan string, 1)
	go func() {
		buf := make([]byte, healthOutputLen)
		n, _ := io.ReadFull(pr, buf)
		_, _ = io.Copy(io.Discard, pr)
		out <- string(buf[:n])
	}()
	// The probe's output, once its writers are gone (or after a grace when
	// a process it left behind holds the pipe).
	output := func() string {
		select {
		case s := <-out:
			pr.Close()
			return s
		case <-time.After(drainGrace):
			pr.Close()
			return <-out
		}
	}
	tctx, cancel := context.WithTimeout(ctx, hc.Timeout)
	defer cancel()
	pidPath := filepath.Join(m.cfg.RunDir, "health.pid")
	_ = os.Remove(pidPath)
	defer os.Remove(pidPath)
	_, err = m.rt.Exec(tctx, m.cfg.ID, &p, ociruntime.ExecOpts{Detach: true, PidFile: pidPath, Stdout: pw, Stderr: pw})
	pw.Close()
	if err != nil {
		output()
		if tctx.Err() != nil && ctx.Err() == nil {
			res.Output = timeoutMessage(hc.Timeout)
		} else {
			res.Output = err.Error()
		}
		return res
	}
	pid, err := readPid(pidPath)
	if err != nil {
		res.Output = output() + err.Error()
		return res
	}
	status := m.reaper.watch(pid)
	select {
	case ws := <-status:
		res.ExitCode = ociruntime.ExitCode(ws)
		res.Output = output()
	case <-tctx.Done():
		select {
		case ws := <-status: // it ended just in time
			res.ExitCode = ociruntime.ExitCode(ws)
			res.Output = output()
			return res
		default:
		}
		_ = unix.Kill(pid, unix.SIGKILL) // not reaped yet: still our child's pid
		select {
		case <-status:
		case <-time.After(drainGrace):
			m.reaper.forget(pid)
		}
		output()
		res.Output = timeoutMessage(hc.Timeout)
	}
	return res
}

func timeoutMessage(d time.Duration) string {
	return fmt.Sprintf("Health check exceeded timeout (%v)", d)
}
