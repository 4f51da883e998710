package ociruntime

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// ExecOpts are the flags of `exec` and the streams handed to it.
type ExecOpts struct {
	// Detach returns once the process runs (--detach); its pid is in
	// PidFile and it becomes a child of the nearest subreaper.
	Detach bool
	// PidFile receives the process's pid (--pid-file).
	PidFile string
	// ConsoleSocket receives the pty master when p.Terminal is set.
	ConsoleSocket string
	// Stdin, Stdout and Stderr become the process's streams.
	Stdin, Stdout, Stderr *os.File
}

// Exec runs process p in container id (`exec --process <file>`). Without
// Detach it waits for the process and returns its exit code (128+n for
// signal n); a failure of the runtime itself is an error. With Detach the
// code is 0 once the process runs.
func (r *Runtime) Exec(ctx context.Context, id string, p *specs.Process, o ExecOpts) (int, error) {
	data, err := json.Marshal(p)
	if err != nil {
		return -1, fmt.Errorf("%s exec %q: encode process: %w", r.name(), id, err)
	}
	pf, err := r.writeTemp("ociruntime-process-*.json", data)
	if err != nil {
		return -1, fmt.Errorf("%s exec %q: %w", r.name(), id, err)
	}
	defer os.Remove(pf)
	args := []string{"exec", "--process", pf}
	if o.Detach {
		args = append(args, "--detach")
	}
	if o.PidFile != "" {
		args = append(args, "--pid-file", o.PidFile)
	}
	if o.ConsoleSocket != "" {
		args = append(args, "--console-socket", o.ConsoleSocket)
	}
	res, err := r.run(ctx, call{op: "exec", id: id, args: append(args, id),
		stdin: o.Stdin, stdout: o.Stdout, stderr: o.Stderr, exitOK: !o.Detach})
	if err != nil {
		return -1, err
	}
	return res.code, nil
}

// writeTemp writes data to a new file in TempDir and returns its path.
func (r *Runtime) writeTemp(pattern string, data []byte) (string, error) {
	f, err := os.CreateTemp(r.tempDir(), pattern)
	if err != nil {
		return "", err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(f.Name())
		return "", fmt.Errorf("write %s: %w", f.Name(), err)
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("write %s: %w", f.Name(), err)
	}
	return f.Name(), nil
}
