package testsuite

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/berth-project/berth/internal/snapshot"
)

// The environment of a re-executed crash child: the root to work on and a
// prefix for its keys.
const (
	crashEnv       = "BERTH_SNAPSHOT_TESTSUITE_CRASH_ROOT"
	crashPrefixEnv = "BERTH_SNAPSHOT_TESTSUITE_CRASH_PREFIX"
	progressMark   = "berth-snapshot-crash-progress "
)

// testCrash kills a process that prepares, fills, commits, views and
// removes snapshots without pause, at a few points, and then checks that
// opening the root again leaves only whole snapshots with their content,
// and that removing them leaves the root as it was: whatever the kill
// interrupted was cleaned.
func testCrash(t *testing.T, e *env) {
	for round, after := range []int{1, 3, 6, 10} {
		prefix := fmt.Sprintf("r%d", round)
		runCrashChild(t, e.root, prefix, after)

		reopened := e.new(t, e.root) // opening again cleans up
		t.Cleanup(func() { reopened.Close() })
		e.sn = reopened
		committed := 0
		for key, info := range countSnapshots(t, e) {
			switch info.Kind {
			case snapshot.KindCommitted:
				committed++
				ms, err := e.sn.View(e.ctx, key+"-check", key, nil)
				must(t, err)
				withMounted(t, ms, func(dir string) { checkFile(t, filepath.Join(dir, "name"), key) })
				must(t, e.sn.Remove(e.ctx, key+"-check"))
			case snapshot.KindActive, snapshot.KindView:
				ms, err := e.sn.Mounts(e.ctx, key)
				must(t, err)
				withMounted(t, ms, func(string) {})
			}
		}
		if committed < after {
			t.Errorf("round %d: %d committed snapshots survived, the child reported %d", round, committed, after)
		}
	}
	removeAll(t, e)
	checkTreeIs(t, e.root, e.baseline)
}

// runCrashChild re-executes the test binary for this very case, with the
// crash environment, waits until it reports after commits and kills it
// with SIGKILL.
func runCrashChild(t *testing.T, root, prefix string, after int) {
	t.Helper()
	var pattern []string
	for _, part := range strings.Split(t.Name(), "/") {
		pattern = append(pattern, "^"+regexp.QuoteMeta(part)+"$")
	}
	cmd := exec.Command(os.Args[0], "-test.run="+strings.Join(pattern, "/"), "-test.count=1")
	cmd.Env = append(os.Environ(), crashEnv+"="+root, crashPrefixEnv+"="+prefix)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	must(t, err)
	must(t, cmd.Start())
	seen := 0
	var lines []string
	sc := bufio.NewScanner(out)
	for seen < after && sc.Scan() {
		lines = append(lines, sc.Text())
		if strings.HasPrefix(sc.Text(), progressMark) {
			seen++
		}
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	if seen < after {
		t.Fatalf("crash child stopped after %d commits, before being killed:\n%s\n%s", seen, strings.Join(lines, "\n"), stderr.String())
	}
}

// crashChild is the work of the process testCrash kills: a chain of
// snapshots, each filled through a detached mount (gone with the process),
// committed, viewed and the view removed again, with no pause.
func crashChild(t *testing.T, newSnapshotter NewFunc) {
	root, prefix := os.Getenv(crashEnv), os.Getenv(crashPrefixEnv)
	sn := newSnapshotter(t, root)
	ctx := context.Background()
	parent := ""
	for i := range 50 {
		key, name := fmt.Sprintf("%s-a%d", prefix, i), fmt.Sprintf("%s-c%d", prefix, i)
		ms, err := sn.Prepare(ctx, key, parent, nil)
		must(t, err)
		withDetached(t, ms, func(dir string) {
			writeFile(t, filepath.Join(dir, "name"), name)
			must(t, os.Mkdir(filepath.Join(dir, name), 0o755))
			for j := range 20 {
				writeFile(t, filepath.Join(dir, name, fmt.Sprint(j)), strings.Repeat("x", 100*j))
			}
		})
		must(t, sn.Commit(ctx, name, key, nil))
		fmt.Println(progressMark + name)
		_, err = sn.View(ctx, name+"-view", name, nil)
		must(t, err)
		must(t, sn.Remove(ctx, name+"-view"))
		parent = name
		if i%3 == 2 {
			// Short chains: mount.Detached passes lowerdir through
			// fsconfig(2), whose strings stop at 256 bytes.
			parent = ""
		}
	}
}
