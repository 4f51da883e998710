package testsuite

import (
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/snapshot"
)

const racers = 8

// race runs fn(i) for i in [0, racers) at once and returns the errors.
func race(fn func(i int) error) []error {
	errs := make([]error, racers)
	var start, done sync.WaitGroup
	start.Add(1)
	for i := range racers {
		done.Add(1)
		go func() {
			defer done.Done()
			start.Wait()
			errs[i] = fn(i)
		}()
	}
	start.Done()
	done.Wait()
	return errs
}

// checkOneWinner fails t unless exactly one error is nil and the others are
// of class lost.
func checkOneWinner(t *testing.T, what string, errs []error, lost error) int {
	t.Helper()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Errorf("%s: both %d and %d won", what, winner, i)
		case err == nil:
			winner = i
		default:
			checkClass(t, what, err, lost)
		}
	}
	if winner < 0 {
		t.Errorf("%s: no one won: %v", what, errs)
	}
	return winner
}

func makeBase(t *testing.T, e *env, name string) {
	t.Helper()
	ms, err := e.sn.Prepare(e.ctx, name+"-extract", "", nil)
	must(t, err)
	withMounted(t, ms, func(dir string) { writeFile(t, filepath.Join(dir, "base"), name) })
	must(t, e.sn.Commit(e.ctx, name, name+"-extract", nil))
}

func countSnapshots(t *testing.T, e *env) map[string]snapshot.Info {
	t.Helper()
	all := map[string]snapshot.Info{}
	must(t, e.sn.Walk(e.ctx, func(i snapshot.Info) error { all[i.Key] = i; return nil }))
	return all
}

func testConcurrentPrepare(t *testing.T, e *env) {
	makeBase(t, e, "base")
	errs := race(func(int) error {
		_, err := e.sn.Prepare(e.ctx, "same", "base", nil)
		return err
	})
	checkOneWinner(t, "prepare of one key", errs, errdefs.ErrAlreadyExists)
	errs = race(func(i int) error {
		_, err := e.sn.View(e.ctx, "same-view", "base", nil)
		return err
	})
	checkOneWinner(t, "view of one key", errs, errdefs.ErrAlreadyExists)

	all := countSnapshots(t, e)
	if len(all) != 3 || all["same"].Kind != snapshot.KindActive || all["same-view"].Kind != snapshot.KindView {
		t.Errorf("after the races: %+v", all)
	}
	ms, err := e.sn.Mounts(e.ctx, "same")
	must(t, err)
	withMounted(t, ms, func(dir string) { checkFile(t, filepath.Join(dir, "base"), "base") })

	removeAll(t, e)
	checkTreeIs(t, e.root, e.baseline)
}

func testConcurrentCommit(t *testing.T, e *env) {
	makeBase(t, e, "base")
	for i := range racers {
		ms, err := e.sn.Prepare(e.ctx, fmt.Sprintf("k%d", i), "base", nil)
		must(t, err)
		withMounted(t, ms, func(dir string) { writeFile(t, filepath.Join(dir, "who"), fmt.Sprint(i)) })
	}
	errs := race(func(i int) error {
		return e.sn.Commit(e.ctx, "winner", fmt.Sprintf("k%d", i), nil)
	})
	w := checkOneWinner(t, "commit onto one name", errs, errdefs.ErrAlreadyExists)

	for i := range racers {
		key := fmt.Sprintf("k%d", i)
		_, err := e.sn.Stat(e.ctx, key)
		if i == w {
			checkClass(t, "stat of the winner's key", err, errdefs.ErrNotFound)
		} else if err != nil {
			t.Errorf("loser %s is gone: %v", key, err)
		}
	}
	checkInfo(t, e, "winner", snapshot.KindCommitted, "base", nil)
	ms, err := e.sn.View(e.ctx, "check", "winner", nil)
	must(t, err)
	withMounted(t, ms, func(dir string) { checkFile(t, filepath.Join(dir, "who"), fmt.Sprint(w)) })

	// The same key committed under several names at once: one commit.
	_, err = e.sn.Prepare(e.ctx, "one", "base", nil)
	must(t, err)
	errs = race(func(i int) error {
		return e.sn.Commit(e.ctx, fmt.Sprintf("name%d", i), "one", nil)
	})
	checkOneWinner(t, "commit of one key", errs, errdefs.ErrNotFound)
	if all := countSnapshots(t, e); len(all) != 1+racers+1+1 {
		t.Errorf("after the races %d snapshots: %+v", len(all), all)
	}

	removeAll(t, e)
	checkTreeIs(t, e.root, e.baseline)
}

// testConcurrentRemoveAndPrepare races the removal of a parent against a
// child being made on it: never both.
func testConcurrentRemoveAndPrepare(t *testing.T, e *env) {
	for round := range 4 {
		base := fmt.Sprintf("base%d", round)
		makeBase(t, e, base)
		var prepErr, rmErr error
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { defer wg.Done(); _, prepErr = e.sn.Prepare(e.ctx, base+"-child", base, nil) }()
		go func() { defer wg.Done(); rmErr = e.sn.Remove(e.ctx, base) }()
		wg.Wait()
		switch {
		case prepErr == nil && rmErr == nil:
			t.Fatalf("round %d: a parent was removed under a new child", round)
		case prepErr == nil:
			checkClass(t, "remove of a parent", rmErr, errdefs.ErrFailedPrecondition)
			checkInfo(t, e, base+"-child", snapshot.KindActive, base, nil)
			ms, err := e.sn.Mounts(e.ctx, base+"-child")
			must(t, err)
			withMounted(t, ms, func(dir string) { checkFile(t, filepath.Join(dir, "base"), base) })
		case rmErr == nil:
			if !errdefs.IsNotFound(prepErr) && !errdefs.IsFailedPrecondition(prepErr) {
				t.Errorf("prepare on a parent being removed: %v", prepErr)
			}
		default:
			t.Errorf("round %d: both failed: %v; %v", round, prepErr, rmErr)
		}
	}
	removeAll(t, e)
	checkTreeIs(t, e.root, e.baseline)
}

// testTwoSnapshotters runs two snapshotters on one root at once, as two
// processes would.
func testTwoSnapshotters(t *testing.T, e *env) {
	other := e.new(t, e.root)
	defer other.Close()
	makeBase(t, e, "base")
	errs := race(func(i int) error {
		sn := e.sn
		if i%2 == 1 {
			sn = other
		}
		key := fmt.Sprintf("a%d", i)
		ms, err := sn.Prepare(e.ctx, key, "base", nil)
		if err != nil {
			return err
		}
		if len(ms) == 0 {
			return fmt.Errorf("no mounts for %s", key)
		}
		if err := sn.Commit(e.ctx, fmt.Sprintf("c%d", i), key, nil); err != nil {
			return err
		}
		if _, err := sn.Prepare(e.ctx, "shared", fmt.Sprintf("c%d", i), nil); err != nil && !errdefs.IsAlreadyExists(err) {
			return err
		}
		return nil
	})
	for i, err := range errs {
		if err != nil {
			t.Errorf("racer %d: %v", i, err)
		}
	}
	all := map[string]snapshot.Info{}
	must(t, other.Walk(e.ctx, func(i snapshot.Info) error { all[i.Key] = i; return nil }))
	if len(all) != 1+racers+1 {
		t.Errorf("the other snapshotter sees %d snapshots: %+v", len(all), all)
	}
	removeAll(t, e)
	checkTreeIs(t, e.root, e.baseline)
}
