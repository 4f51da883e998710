package storage

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/snapshot"
)

func mkfs(dir string, _ []Snapshot) error { return os.Mkdir(filepath.Join(dir, "fs"), 0o755) }

func mustOpen(t *testing.T, root string) *Store {
	t.Helper()
	st, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// checkConsistent fails t unless every record has its directory and every
// entry of snapshots/ is a recorded snapshot's directory.
func checkConsistent(t *testing.T, st *Store) {
	t.Helper()
	want := []string{}
	err := st.Walk(context.Background(), func(sn Snapshot) error {
		want = append(want, strconv.FormatUint(sn.ID, 10))
		if _, err := os.Stat(filepath.Join(st.Dir(sn.ID), "fs")); err != nil {
			t.Errorf("snapshot %q: %v", sn.Info.Key, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(st.snapshotsDir())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("snapshots/ holds %q, the records name %q", got, want)
	}
}

func TestOpenCollectsGarbage(t *testing.T) {
	root := t.TempDir()
	st := mustOpen(t, root)
	sn, _, err := st.Create(context.Background(), snapshot.KindActive, "kept", "", nil, mkfs)
	if err != nil {
		t.Fatal(err)
	}
	// A killed maker's half-filled directory, a numeric directory renamed
	// but never committed, and a live maker's directory.
	dead := filepath.Join(st.snapshotsDir(), "tmp-dead")
	if err := os.MkdirAll(filepath.Join(dead, "fs", "usr"), 0o755); err != nil {
		t.Fatal(err)
	}
	orphan := st.Dir(sn.ID + 100)
	if err := os.MkdirAll(filepath.Join(orphan, "fs"), 0o755); err != nil {
		t.Fatal(err)
	}
	live, err := newTempDir(st.snapshotsDir())
	if err != nil {
		t.Fatal(err)
	}

	st = mustOpen(t, root)
	for _, gone := range []string{dead, orphan} {
		if _, err := os.Lstat(gone); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s survived reopening: %v", gone, err)
		}
	}
	if _, err := os.Stat(live.path); err != nil {
		t.Errorf("a live maker's directory was removed: %v", err)
	}
	if _, err := os.Stat(st.Dir(sn.ID)); err != nil {
		t.Errorf("a recorded snapshot's directory was removed: %v", err)
	}

	// Once its maker lets go (dies), it is garbage too.
	live.release()
	st = mustOpen(t, root)
	checkConsistent(t, st)
}

func TestFailedFillLeavesNothing(t *testing.T) {
	st := mustOpen(t, t.TempDir())
	boom := errors.New("boom")
	_, _, err := st.Create(context.Background(), snapshot.KindActive, "a", "", nil, func(dir string, _ []Snapshot) error {
		if err := os.WriteFile(filepath.Join(dir, "half"), nil, 0o644); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("create with a failing fill: %v", err)
	}
	if _, _, err := st.Get(context.Background(), "a"); !errdefs.IsNotFound(err) {
		t.Errorf("a failed create was recorded: %v", err)
	}
	checkConsistent(t, st)
}

func TestIDsAreNotReused(t *testing.T) {
	ctx := context.Background()
	st := mustOpen(t, t.TempDir())
	a, _, err := st.Create(ctx, snapshot.KindActive, "a", "", nil, mkfs)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Remove(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	b, _, err := st.Create(ctx, snapshot.KindActive, "a", "", nil, mkfs)
	if err != nil {
		t.Fatal(err)
	}
	if b.ID == a.ID {
		t.Errorf("id %d given twice", a.ID)
	}
	c, err := st.Commit(ctx, "c", "a", nil)
	if err != nil || c.ID != b.ID {
		t.Errorf("commit changed the id %d to %d (%v)", b.ID, c.ID, err)
	}
}

// TestProcesses runs several processes on one root at once, each making,
// committing and removing snapshots and racing for one shared key.
func TestProcesses(t *testing.T) {
	if root := os.Getenv("BERTH_STORAGE_TEST_ROOT"); root != "" {
		processChild(t, root, os.Getenv("BERTH_STORAGE_TEST_ID"))
		return
	}
	const procs = 4
	root := t.TempDir()
	st := mustOpen(t, root)
	if _, _, err := st.Create(context.Background(), snapshot.KindActive, "base-a", "", nil, mkfs); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Commit(context.Background(), "base", "base-a", nil); err != nil {
		t.Fatal(err)
	}
	type result struct {
		out []byte
		err error
	}
	results := make(chan result, procs)
	for i := range procs {
		go func() {
			cmd := execSelf(t, "^TestProcesses$")
			cmd.Env = append(os.Environ(), "BERTH_STORAGE_TEST_ROOT="+root, "BERTH_STORAGE_TEST_ID="+strconv.Itoa(i))
			out, err := cmd.CombinedOutput()
			results <- result{out, err}
		}()
	}
	for range procs {
		r := <-results
		if r.err != nil {
			t.Errorf("child: %v\n%s", r.err, r.out)
		}
	}
	ctx := context.Background()
	var keys []string
	err := st.Walk(ctx, func(sn Snapshot) error { keys = append(keys, sn.Info.Key); return nil })
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(keys)
	want := []string{"base", "shared"}
	for i := range procs {
		want = append(want, fmt.Sprintf("p%d-last", i))
	}
	slices.Sort(want)
	if !slices.Equal(keys, want) {
		t.Errorf("after the processes: %q, want %q", keys, want)
	}
	checkConsistent(t, st)
}

func processChild(t *testing.T, root, id string) {
	ctx := context.Background()
	st := mustOpen(t, root)
	for i := range 20 {
		key := fmt.Sprintf("p%s-%d", id, i)
		if _, _, err := st.Create(ctx, snapshot.KindActive, key, "base", nil, mkfs); err != nil {
			t.Fatal(err)
		}
		if _, err := st.Commit(ctx, key+"-c", key, nil); err != nil {
			t.Fatal(err)
		}
		if _, _, err := st.Create(ctx, snapshot.KindView, key+"-v", key+"-c", nil, mkfs); err != nil {
			t.Fatal(err)
		}
		if err := st.Remove(ctx, key+"-c"); !errdefs.IsFailedPrecondition(err) {
			t.Fatalf("remove a parent: %v", err)
		}
		for _, k := range []string{key + "-v", key + "-c"} {
			if err := st.Remove(ctx, k); err != nil {
				t.Fatal(err)
			}
		}
		_, _, err := st.Create(ctx, snapshot.KindActive, "shared", "base", nil, mkfs)
		if err != nil && !errdefs.IsAlreadyExists(err) {
			t.Fatal(err)
		}
	}
	if _, _, err := st.Create(ctx, snapshot.KindActive, "p"+id+"-last", "base", nil, mkfs); err != nil {
		t.Fatal(err)
	}
}

// execSelf returns a command that runs this test binary for the tests
// matching run.
func execSelf(t *testing.T, run string) *exec.Cmd {
	t.Helper()
	return exec.Command(os.Args[0], "-test.run="+run, "-test.count=1")
}

// TestOrphanInTheWay leaves what a process killed between its rename and
// its commit leaves (a directory under the next id) while the store stays
// open: the next Create must not trip over it.
func TestOrphanInTheWay(t *testing.T) {
	ctx := context.Background()
	st := mustOpen(t, t.TempDir())
	a, _, err := st.Create(ctx, snapshot.KindActive, "a", "", nil, mkfs)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(st.Dir(a.ID+1), "fs", "stale"), 0o755); err != nil {
		t.Fatal(err)
	}
	b, _, err := st.Create(ctx, snapshot.KindActive, "b", "", nil, mkfs)
	if err != nil {
		t.Fatalf("create over an orphan directory: %v", err)
	}
	if b.ID != a.ID+1 {
		t.Fatalf("id %d, want %d", b.ID, a.ID+1)
	}
	if _, err := os.Lstat(filepath.Join(st.Dir(b.ID), "fs", "stale")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the new snapshot holds the orphan's content: %v", err)
	}
	checkConsistent(t, st)
}
