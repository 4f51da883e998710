package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os/exec"
	"testing"

	"github.com/berth-project/berth/internal/testenv"
)

// run runs the built probe (bin/probe) and returns its stdout, stderr and
// exit status.
func run(t *testing.T, cmd *exec.Cmd) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		t.Fatalf("%v: %v", cmd.Args, err)
	}
	return out.String(), errOut.String(), code
}

func probeCmd(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	return exec.Command(testenv.Binary(t, "probe"), args...)
}

// decode parses the JSON the probe printed into v.
func decode(t *testing.T, stdout string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(stdout), v); err != nil {
		t.Fatalf("parse probe output: %v\n%s", err, stdout)
	}
}
