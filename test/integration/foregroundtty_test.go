package integration

import (
	"strings"
	"testing"

	"github.com/berth-project/berth/test/kit"
)

// TestRunTerminalForeground: `run` of a process with a terminal and no
// --console-socket keeps the pty master itself and joins it to its own
// stdio (here pipes: no raw mode), passing the input in and the output out,
// and exits with the process's status.
func TestRunTerminalForeground(t *testing.T) {
	r := newRuntime(t)
	b := kit.NewBundle(t)
	b.Spec.Process.Terminal = true
	b.Spec.Process.Args = []string{"/bin/sh", "-c", "tty; read line; echo got:$line; exit 3"}
	if err := b.Save(); err != nil {
		t.Fatal(err)
	}
	out, errs, code := r.exec([]byte("hello\n"), "run", "--bundle", b.Dir, "tty-fg")
	if code != 3 {
		t.Fatalf("run with a terminal in the foreground: exit %d, want 3: %s", code, errs)
	}
	if !strings.Contains(out, "/dev/pts/0") || !strings.Contains(out, "got:hello") {
		t.Errorf("terminal output %q, want the pty's name and the line sent on stdin", out)
	}
	assertNoLeaks(t, r, "tty-fg", b)
}
