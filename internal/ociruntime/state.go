package ociruntime

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// State returns the runtime's state of container id (`state`): its status
// ("creating", "created", "running", "paused", "stopped") and pid. This is
// the truth about a container whatever became of its monitor.
func (r *Runtime) State(ctx context.Context, id string) (*specs.State, error) {
	res, err := r.run(ctx, call{op: "state", id: id, args: []string{"state", id}, wantOut: true})
	if err != nil {
		return nil, err
	}
	var st specs.State
	if err := json.Unmarshal(res.out, &st); err != nil {
		return nil, fmt.Errorf("%s state %q: parse %q: %w", r.name(), id, clip(res.out), err)
	}
	return &st, nil
}

// List returns the state of every container under Root (`list --format
// json`).
func (r *Runtime) List(ctx context.Context) ([]specs.State, error) {
	res, err := r.run(ctx, call{op: "list", args: []string{"list", "--format", "json"}, wantOut: true})
	if err != nil {
		return nil, err
	}
	var list []specs.State
	if out := bytes.TrimSpace(res.out); len(out) > 0 { // runc prints "null" for none
		if err := json.Unmarshal(out, &list); err != nil {
			return nil, fmt.Errorf("%s list: parse %q: %w", r.name(), clip(res.out), err)
		}
	}
	return list, nil
}

// Ps returns the pids, as the host sees them, of the container's processes
// (`ps --format json`).
func (r *Runtime) Ps(ctx context.Context, id string) ([]int, error) {
	res, err := r.run(ctx, call{op: "ps", id: id, args: []string{"ps", "--format", "json", id}, wantOut: true})
	if err != nil {
		return nil, err
	}
	var pids []int
	if out := bytes.TrimSpace(res.out); len(out) > 0 {
		if err := json.Unmarshal(out, &pids); err != nil {
			return nil, fmt.Errorf("%s ps %q: parse %q: %w", r.name(), id, clip(res.out), err)
		}
	}
	return pids, nil
}

// Stats returns the container's resource statistics once (`events
// --stats`): the "data" object of runc's stats event (cpu, memory, pids,
// blkio, hugetlb, network interfaces), undecoded.
func (r *Runtime) Stats(ctx context.Context, id string) (json.RawMessage, error) {
	res, err := r.run(ctx, call{op: "events", id: id, args: []string{"events", "--stats", id}, wantOut: true})
	if err != nil {
		return nil, err
	}
	var ev struct {
		Type string          `json:"type"`
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(bytes.TrimSpace(res.out), &ev); err != nil {
		return nil, fmt.Errorf("%s events --stats %q: parse %q: %w", r.name(), id, clip(res.out), err)
	}
	return ev.Data, nil
}

// clip shortens output quoted in an error.
func clip(b []byte) string {
	if len(b) > 200 {
		return string(b[:200]) + "…"
	}
	return string(b)
}
