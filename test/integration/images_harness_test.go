package integration

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/berth-project/berth/internal/snapshot/storage"
	"github.com/berth-project/berth/internal/testenv"
)

// berthCLI is the berth engine CLI over a storage root of the test's own.
//
//	b := newBerth(t)
//	b.must("pull", "127.0.0.1:5000/berth-test/busybox:1")
//	out, errs, code := b.run("rmi", "nosuch") // code 125
//	b.flags = append(b.flags, "--storage-driver", "native") // for the calls after
//	t.Run("sub", func(t *testing.T) { b := b.with(t); b.must("images") })
//
// When the test ends, whatever `berth image mount` left mounted is unmounted
// (with berth image unmount), and the test fails for each leak it finds:
// a mount under root or runroot (then unmounted), a file left under
// root/content/ingest, an "extract-…" snapshot (an unpack that did not
// finish or roll back).
type berthCLI struct {
	t       testing.TB
	bin     string
	root    string   // --root: t.TempDir()/root
	runroot string   // --runroot: t.TempDir()/run
	flags   []string // global flags before every call's args; starts with --root, --runroot
	env     []string // extra environment of every call ("KEY=value"), on top of the test's
}

// newBerth returns berth with a root and runroot in t.TempDir(); it needs
// root and bin/berth (BERTH_BIN_DIR).
func newBerth(t testing.TB) *berthCLI {
	t.Helper()
	testenv.RequiresRoot(t)
	dir := t.TempDir()
	b := &berthCLI{
		t:       t,
		bin:     testenv.Binary(t, "berth"),
		root:    filepath.Join(dir, "root"),
		runroot: filepath.Join(dir, "run"),
	}
	b.flags = []string{"--root", b.root, "--runroot", b.runroot}
	t.Cleanup(b.checkLeaks)
	return b
}

// with returns b reporting to t (a subtest of b's test): same root, flags
// and environment, no second leak check.
func (b *berthCLI) with(t testing.TB) *berthCLI {
	c := *b
	c.t = t
	c.flags = append([]string(nil), b.flags...)
	return &c
}

// run runs berth with b.flags and args and returns its stdout, stderr and
// exit code; the test fails if berth cannot be started or runs for more
// than five minutes.
func (b *berthCLI) run(args ...string) (stdout, stderr string, code int) {
	b.t.Helper()
	return b.runStdin("", args...)
}

// runStdin is run with stdin as berth's standard input.
func (b *berthCLI) runStdin(stdin string, args ...string) (stdout, stderr string, code int) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, b.bin, append(append([]string{}, b.flags...), args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	if b.env != nil {
		cmd.Env = append(os.Environ(), b.env...)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case ctx.Err() != nil:
		b.t.Fatalf("berth %s: still running after 5 minutes, killed\n%s%s", strings.Join(args, " "), out.String(), errb.String())
	case errors.As(err, &ee):
		return out.String(), errb.String(), ee.ExitCode()
	case err != nil:
		b.t.Fatalf("run berth %s: %v", strings.Join(args, " "), err)
	}
	return out.String(), errb.String(), 0
}

// must runs berth and returns its stdout; the test fails unless it exits 0.
func (b *berthCLI) must(args ...string) string {
	b.t.Helper()
	out, errs, code := b.run(args...)
	if code != 0 {
		b.t.Fatalf("berth %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errs)
	}
	return out
}

// checkLeaks is run when the test ends (see berthCLI).
func (b *berthCLI) checkLeaks() {
	t := b.t
	t.Helper()
	// Image mounts are the test's to leave: unmount them the way a user would.
	ids, _ := os.ReadDir(filepath.Join(b.runroot, "image-mounts"))
	for _, id := range ids {
		if _, errs, code := b.run("image", "unmount", id.Name()); code != 0 {
			t.Errorf("cleanup: berth image unmount %s: exit %d: %s", id.Name(), code, errs)
		}
	}
	unmountBelow(t, b.root)
	unmountBelow(t, b.runroot)

	ingest := filepath.Join(b.root, "content", "ingest")
	left, _ := os.ReadDir(ingest)
	for _, e := range left {
		t.Errorf("ingest %s left in %s", e.Name(), ingest)
	}

	drivers, _ := os.ReadDir(filepath.Join(b.root, "snapshots"))
	for _, d := range drivers {
		st, err := storage.Open(filepath.Join(b.root, "snapshots", d.Name()))
		if err != nil {
			t.Errorf("open the %s snapshots of %s: %v", d.Name(), b.root, err)
			continue
		}
		err = st.Walk(context.Background(), func(s storage.Snapshot) error {
			if strings.HasPrefix(s.Info.Key, "extract-") {
				t.Errorf("%s snapshot %q left (an unpack that did not finish or roll back)", d.Name(), s.Info.Key)
			}
			return nil
		})
		if err != nil {
			t.Errorf("walk the %s snapshots of %s: %v", d.Name(), b.root, err)
		}
	}
}
