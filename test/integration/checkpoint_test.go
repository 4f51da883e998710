package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/berth-project/berth/internal/testenv"
	"github.com/berth-project/berth/test/kit"
)

// counterScript counts in /out/n, replaced atomically, ten times a second.
const counterScript = "i=0; while :; do i=$((i+1)); echo $i > /out/n.tmp; mv /out/n.tmp /out/n; sleep 0.1; done"

// startCounter runs the counter loop detached as container id and waits
// until it counts; it returns a reader of the counter.
func startCounter(t *testing.T, r *runtimeCLI, b *kit.Bundle, id string) func() int {
	t.Helper()
	host := bindHostDir(t, b, "/out")
	setArgs(t, b, "/bin/sh", "-c", counterScript)
	r.deleteOnCleanup(id)
	r.mustDetached(newMark(), "run", "-d", "--bundle", b.Dir, id)
	counter := func() int {
		data, _ := os.ReadFile(filepath.Join(host, "n"))
		n, _ := strconv.Atoi(strings.TrimSpace(string(data)))
		return n
	}
	waitUntil(t, "the counter to count", func() bool { return counter() > 0 })
	return counter
}

// advancesFrom waits until the counter passes n.
func advancesFrom(t *testing.T, counter func() int, n int) {
	t.Helper()
	waitUntil(t, "the counter to pass "+strconv.Itoa(n), func() bool { return counter() > n })
}

// TestCheckpointRestore checkpoints a counting container (first leaving it
// running, then not), restores it into a new container from the images
// and sees it count on from where it was. It runs where `criu check`
// passes (see docs/conformance.md for this project's hosts).
func TestCheckpointRestore(t *testing.T) {
	r := newRuntime(t)
	testenv.RequiresCriu(t)
	b := kit.NewBundle(t)
	id := "cr-counter"
	counter := startCounter(t, r, b, id)
	images, work := t.TempDir(), t.TempDir()

	r.must("checkpoint", "--leave-running", "--image-path", images, "--work-path", work, "--file-locks", "--tcp-established", id)
	if got := r.status(id); got != "running" {
		t.Fatalf("status after checkpoint --leave-running = %q, want running", got)
	}
	advancesFrom(t, counter, counter())
	if _, err := os.Stat(filepath.Join(work, "dump.log")); err != nil {
		t.Errorf("no dump.log in --work-path: %v", err)
	}

	waitUntil(t, "the counter to reach 20", func() bool { return counter() >= 20 })
	images = t.TempDir()
	r.must("checkpoint", "--image-path", images, id)
	if _, _, code := r.exec(nil, "state", id); code == 0 {
		t.Fatalf("container %s still exists after checkpoint without --leave-running", id)
	}
	assertNoLeaks(t, r, id, b)
	stopped := counter()

	r.mustDetached(newMark(), "restore", "-d", "--bundle", b.Dir, "--image-path", images, id)
	if got := r.status(id); got != "running" {
		t.Fatalf("status after restore = %q, want running", got)
	}
	if first := counter(); first < stopped {
		t.Fatalf("restored counter at %d, below %d where it was checkpointed: it started over", first, stopped)
	}
	advancesFrom(t, counter, stopped)
	r.must("delete", "-f", id)
	assertNoLeaks(t, r, id, b)
}

// TestCheckpointFailureLeavesContainer: where CRIU cannot dump (here: its
// `criu check` fails), checkpoint fails naming CRIU's error and its log,
// and the container runs on untouched.
func TestCheckpointFailureLeavesContainer(t *testing.T) {
	r := newRuntime(t)
	criu := testenv.RequiresBinary(t, "criu")
	reason := testenv.CriuCheck(criu)
	if reason == "" {
		t.Skip("skipping: `criu check` passes here; TestCheckpointRestore covers this host")
	}
	b := kit.NewBundle(t)
	id := "cr-fails"
	counter := startCounter(t, r, b, id)
	pid := r.statePid(id)
	work := t.TempDir()
	_, errs, code := r.exec(nil, "checkpoint", "--image-path", t.TempDir(), "--work-path", work, id)
	if code == 0 {
		t.Fatalf("checkpoint succeeded although `criu check` fails (%s)", reason)
	}
	t.Logf("checkpoint: exit %d: %s", code, errs)
	logPath := filepath.Join(work, "dump.log")
	for _, want := range []string{"criu dump failed", "Error (", logPath} {
		if !strings.Contains(errs, want) {
			t.Errorf("checkpoint stderr %q does not name %q", errs, want)
		}
	}
	if got := r.status(id); got != "running" {
		t.Errorf("status after the failed checkpoint = %q, want running", got)
	}
	if got := r.statePid(id); got != pid {
		t.Errorf("pid after the failed checkpoint = %d, want %d", got, pid)
	}
	advancesFrom(t, counter, counter())
	r.must("delete", "-f", id)
	assertNoLeaks(t, r, id, b)
}

// TestCheckpointBadInput: no criu binary, unknown, created and stopped
// containers, and restores that cannot start leave everything as it was.
func TestCheckpointBadInput(t *testing.T) {
	r := newRuntime(t)
	b := kit.NewBundle(t)
	id := "cr-bad"
	counter := startCounter(t, r, b, id)
	pid := r.statePid(id)
	images := filepath.Join(t.TempDir(), "images")

	_, errs, code := r.exec(nil, "--criu", "/nonexistent/criu", "checkpoint", "--image-path", images, id)
	if code == 0 || !strings.Contains(errs, `criu binary "/nonexistent/criu" not found`) {
		t.Errorf("checkpoint without criu: exit %d, stderr %q; want a failure naming the missing binary", code, errs)
	}
	if got := r.status(id); got != "running" || r.statePid(id) != pid {
		t.Errorf("after checkpoint without criu: status %q pid %d, want running pid %d", got, r.statePid(id), pid)
	}
	if exists(images) {
		t.Errorf("checkpoint without criu created %s", images)
	}
	advancesFrom(t, counter, counter())

	if _, errs, code := r.exec(nil, "checkpoint", "--image-path", images, "no-such-container"); code == 0 || !strings.Contains(errs, "does not exist") {
		t.Errorf("checkpoint of an unknown container: exit %d, stderr %q; want a failure naming it", code, errs)
	}
	r.must("kill", id, "KILL")
	waitUntil(t, "the container to stop", func() bool { return r.status(id) == "stopped" })
	if _, errs, code := r.exec(nil, "checkpoint", "--image-path", images, id); code == 0 || !strings.Contains(errs, "it is stopped") {
		t.Errorf("checkpoint of a stopped container: exit %d, stderr %q; want a failure naming stopped", code, errs)
	}
	r.must("delete", id)

	if errs, code := r.create(b, id); code != 0 {
		t.Fatalf("create: exit %d: %s", code, errs)
	}
	if _, errs, code := r.exec(nil, "checkpoint", "--image-path", images, id); code == 0 || !strings.Contains(errs, "it is created") {
		t.Errorf("checkpoint of a created container: exit %d, stderr %q; want a failure naming created", code, errs)
	}
	r.must("delete", "-f", id)
	assertNoLeaks(t, r, id, b)

	if _, errs, code := r.exec(nil, "--criu", "/nonexistent/criu", "restore", "-d", "--bundle", b.Dir, "--image-path", images, id); code == 0 || !strings.Contains(errs, "not found") {
		t.Errorf("restore without criu: exit %d, stderr %q; want a failure naming the missing binary", code, errs)
	}
	assertNoLeaks(t, r, id, b)
	if _, err := exec.LookPath("criu"); err == nil {
		if _, errs, code := r.exec(nil, "restore", "-d", "--bundle", b.Dir, "--image-path", images, id); code == 0 || !strings.Contains(errs, "no checkpoint") {
			t.Errorf("restore from a missing image path: exit %d, stderr %q; want a failure naming it", code, errs)
		}
		assertNoLeaks(t, r, id, b)
		// An image directory without a checkpoint fails once the state
		// directory, cgroups and the rootfs bind are made: all undone.
		empty := t.TempDir()
		if _, errs, code := r.exec(nil, "restore", "-d", "--bundle", b.Dir, "--image-path", empty, id); code == 0 || !strings.Contains(errs, "descriptors.json") {
			t.Errorf("restore from an empty image path: exit %d, stderr %q; want a failure naming descriptors.json", code, errs)
		}
		assertNoLeaks(t, r, id, b)
	}
}
