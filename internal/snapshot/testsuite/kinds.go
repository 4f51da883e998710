package testsuite

import (
	"maps"
	"testing"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/snapshot"
)

func checkInfo(t *testing.T, e *env, key string, kind snapshot.Kind, parent string, labels map[string]string) {
	t.Helper()
	info, err := e.sn.Stat(e.ctx, key)
	if err != nil {
		t.Errorf("stat %q: %v", key, err)
		return
	}
	if info.Key != key || info.Kind != kind || info.Parent != parent || info.Created.IsZero() || !maps.Equal(info.Labels, labels) {
		t.Errorf("stat %q: %+v, want kind %s, parent %q, labels %v, a creation time", key, info, kind, parent, labels)
	}
}

func testKinds(t *testing.T, e *env) {
	_, err := e.sn.Prepare(e.ctx, "a", "", map[string]string{"stage": "extract"})
	must(t, err)
	checkInfo(t, e, "a", snapshot.KindActive, "", map[string]string{"stage": "extract"})

	must(t, e.sn.Commit(e.ctx, "c", "a", map[string]string{"layer": "1"}))
	checkInfo(t, e, "c", snapshot.KindCommitted, "", map[string]string{"layer": "1"})
	_, err = e.sn.Stat(e.ctx, "a")
	checkClass(t, "stat of a committed active key", err, errdefs.ErrNotFound)

	_, err = e.sn.View(e.ctx, "v", "c", map[string]string{"ro": "yes"})
	must(t, err)
	checkInfo(t, e, "v", snapshot.KindView, "c", map[string]string{"ro": "yes"})

	_, err = e.sn.Prepare(e.ctx, "ctr", "c", nil)
	must(t, err)
	checkInfo(t, e, "ctr", snapshot.KindActive, "c", nil)
	must(t, e.sn.Commit(e.ctx, "c2", "ctr", nil))
	checkInfo(t, e, "c2", snapshot.KindCommitted, "c", nil)

	// A view of nothing is an empty, read-only tree.
	ms, err := e.sn.View(e.ctx, "empty-view", "", nil)
	must(t, err)
	checkInfo(t, e, "empty-view", snapshot.KindView, "", nil)
	withMounted(t, ms, func(dir string) {
		checkNames(t, dir)
		checkReadOnly(t, dir)
	})
	// An active snapshot of nothing is an empty, writable tree.
	ms, err = e.sn.Prepare(e.ctx, "empty", "", nil)
	must(t, err)
	withMounted(t, ms, func(dir string) {
		checkNames(t, dir)
		writeFile(t, dir+"/f", "f")
	})
}

func testErrors(t *testing.T, e *env) {
	sn, ctx := e.sn, e.ctx
	_, err := sn.Prepare(ctx, "", "", nil)
	checkClass(t, "prepare with an empty key", err, errdefs.ErrInvalidArgument)

	_, err = sn.Stat(ctx, "missing")
	checkClass(t, "stat missing", err, errdefs.ErrNotFound)
	_, err = sn.Mounts(ctx, "missing")
	checkClass(t, "mounts of missing", err, errdefs.ErrNotFound)
	_, err = sn.Usage(ctx, "missing")
	checkClass(t, "usage of missing", err, errdefs.ErrNotFound)
	checkClass(t, "remove missing", sn.Remove(ctx, "missing"), errdefs.ErrNotFound)
	checkClass(t, "commit missing", sn.Commit(ctx, "x", "missing", nil), errdefs.ErrNotFound)
	_, err = sn.Prepare(ctx, "p", "missing", nil)
	checkClass(t, "prepare on a missing parent", err, errdefs.ErrNotFound)
	_, err = sn.View(ctx, "p", "missing", nil)
	checkClass(t, "view of a missing parent", err, errdefs.ErrNotFound)

	_, err = sn.Prepare(ctx, "a", "", nil)
	must(t, err)
	_, err = sn.Prepare(ctx, "a", "", nil)
	checkClass(t, "prepare an existing key", err, errdefs.ErrAlreadyExists)
	_, err = sn.View(ctx, "a", "", nil)
	checkClass(t, "view with an existing key", err, errdefs.ErrAlreadyExists)
	_, err = sn.Prepare(ctx, "b", "a", nil)
	checkClass(t, "prepare on an active parent", err, errdefs.ErrFailedPrecondition)
	_, err = sn.View(ctx, "b", "a", nil)
	checkClass(t, "view of an active parent", err, errdefs.ErrFailedPrecondition)

	must(t, sn.Commit(ctx, "c", "a", nil))
	_, err = sn.Prepare(ctx, "c", "", nil)
	checkClass(t, "prepare with the name of a committed snapshot", err, errdefs.ErrAlreadyExists)
	checkClass(t, "commit a committed snapshot", sn.Commit(ctx, "c-again", "c", nil), errdefs.ErrFailedPrecondition)
	_, err = sn.Mounts(ctx, "c")
	checkClass(t, "mounts of a committed snapshot", err, errdefs.ErrFailedPrecondition)

	_, err = sn.Prepare(ctx, "a2", "c", nil)
	must(t, err)
	checkClass(t, "commit onto an existing name", sn.Commit(ctx, "c", "a2", nil), errdefs.ErrAlreadyExists)
	checkInfo(t, e, "a2", snapshot.KindActive, "c", nil) // untouched by the failed commit

	_, err = sn.View(ctx, "v", "c", nil)
	must(t, err)
	checkClass(t, "commit a view", sn.Commit(ctx, "cv", "v", nil), errdefs.ErrFailedPrecondition)
	_, err = sn.Prepare(ctx, "on-view", "v", nil)
	checkClass(t, "prepare on a view", err, errdefs.ErrFailedPrecondition)
	checkInfo(t, e, "v", snapshot.KindView, "c", nil)

	checkClass(t, "remove a parent", sn.Remove(ctx, "c"), errdefs.ErrFailedPrecondition)
	must(t, sn.Remove(ctx, "a2"))
	checkClass(t, "remove the parent of a view", sn.Remove(ctx, "c"), errdefs.ErrFailedPrecondition)
	must(t, sn.Remove(ctx, "v"))
	must(t, sn.Remove(ctx, "c"))
	checkClass(t, "remove twice", sn.Remove(ctx, "c"), errdefs.ErrNotFound)

	// Failed calls left nothing behind.
	checkTreeIs(t, e.root, e.baseline)
}
