package integration

import (
	"bufio"
	"errors"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/berth-project/berth/test/kit"
)

// TestExecForwardsSignals: a foreground `exec` passes the signals it gets
// to the exec'd process (here a trap that exits 9) and exits with its status.
func TestExecForwardsSignals(t *testing.T) {
	r := newRuntime(t)
	b := kit.NewBundle(t)
	b.Spec.Process.Args = []string{"/probe", "sleep", "600"}
	if errs, code := r.create(b, "exec-sig"); code != 0 {
		t.Fatalf("create: exit %d: %s", code, errs)
	}
	t.Cleanup(func() { r.exec(nil, "delete", "-f", "exec-sig") })
	r.must("start", "exec-sig")

	cmd := exec.Command(r.bin, "--root", r.root, "exec", "exec-sig", "/bin/sh", "-c",
		`trap "exit 9" TERM; echo ready; while :; do sleep 0.1; done`)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 1)
	go func() {
		l, _ := bufio.NewReader(out).ReadString('\n')
		lines <- l
	}()
	select {
	case l := <-lines:
		if strings.TrimSpace(l) != "ready" {
			cmd.Process.Kill()
			t.Fatalf("exec printed %q, want ready", l)
		}
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatal("the exec'd shell never got ready")
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatal("exec did not exit after SIGTERM")
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 9 {
		t.Errorf("exec exited with %v, want 9 (the trap's status)", err)
	}
	r.must("delete", "-f", "exec-sig")
	assertNoLeaks(t, r, "exec-sig", b)
}
