package testsuite

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/berth-project/berth/internal/snapshot"
)

func testWalk(t *testing.T, e *env) {
	var seen []snapshot.Info
	must(t, e.sn.Walk(e.ctx, func(i snapshot.Info) error { seen = append(seen, i); return nil }))
	if len(seen) != 0 {
		t.Errorf("walk of an empty snapshotter: %+v", seen)
	}

	_, err := e.sn.Prepare(e.ctx, "a", "", nil)
	must(t, err)
	must(t, e.sn.Commit(e.ctx, "base", "a", map[string]string{"k": "v"}))
	_, err = e.sn.Prepare(e.ctx, "ctr", "base", nil)
	must(t, err)
	_, err = e.sn.View(e.ctx, "view", "base", nil)
	must(t, err)

	want := map[string]struct {
		kind   snapshot.Kind
		parent string
	}{
		"base": {snapshot.KindCommitted, ""},
		"ctr":  {snapshot.KindActive, "base"},
		"view": {snapshot.KindView, "base"},
	}
	got := map[string]snapshot.Info{}
	must(t, e.sn.Walk(e.ctx, func(i snapshot.Info) error {
		if _, dup := got[i.Key]; dup {
			t.Errorf("walk gave %q twice", i.Key)
		}
		got[i.Key] = i
		return nil
	}))
	if len(got) != len(want) {
		t.Errorf("walk gave %d snapshots, want %d: %+v", len(got), len(want), got)
	}
	for key, w := range want {
		if i, ok := got[key]; !ok || i.Kind != w.kind || i.Parent != w.parent {
			t.Errorf("walk: %q is %+v, want kind %s parent %q", key, i, w.kind, w.parent)
		}
	}
	if got["base"].Labels["k"] != "v" {
		t.Errorf("walk: labels of base: %v", got["base"].Labels)
	}

	// An error from fn stops the walk and comes back.
	stop := errors.New("stop here")
	calls := 0
	err = e.sn.Walk(e.ctx, func(snapshot.Info) error { calls++; return stop })
	if !errors.Is(err, stop) || calls != 1 {
		t.Errorf("walk with a failing fn: %v after %d calls, want the fn's error after 1", err, calls)
	}

	// fn may call the snapshotter.
	must(t, e.sn.Walk(e.ctx, func(i snapshot.Info) error {
		_, err := e.sn.Stat(e.ctx, i.Key)
		return err
	}))
}

func testUsage(t *testing.T, e *env) {
	const mib = 1 << 20
	ms, err := e.sn.Prepare(e.ctx, "a", "", nil)
	must(t, err)
	empty, err := e.sn.Usage(e.ctx, "a")
	must(t, err)
	withMounted(t, ms, func(dir string) {
		data := make([]byte, mib)
		for i := range data {
			data[i] = byte(i*7 + i/251)
		}
		must(t, os.WriteFile(filepath.Join(dir, "big"), data, 0o644))
		must(t, os.Link(filepath.Join(dir, "big"), filepath.Join(dir, "big-link")))
		must(t, os.Mkdir(filepath.Join(dir, "d"), 0o755))
		writeFile(t, filepath.Join(dir, "d", "small"), "s")
	})
	u, err := e.sn.Usage(e.ctx, "a")
	must(t, err)
	// big (counted once), d, d/small: at least three more inodes.
	if u.Size < empty.Size+mib || u.Size >= empty.Size+2*mib+64*1024 || u.Inodes < empty.Inodes+3 {
		t.Errorf("usage after writing 1 MiB (and a hard link to it) and 2 inodes: %+v (empty: %+v)", u, empty)
	}
	must(t, e.sn.Commit(e.ctx, "c", "a", nil))
	uc, err := e.sn.Usage(e.ctx, "c")
	must(t, err)
	if uc.Size < mib || uc.Inodes < u.Inodes {
		t.Errorf("usage of the committed snapshot: %+v, active was %+v", uc, u)
	}

	ms, err = e.sn.Prepare(e.ctx, "b", "c", nil)
	must(t, err)
	before, err := e.sn.Usage(e.ctx, "b")
	must(t, err)
	withMounted(t, ms, func(dir string) {
		writeFile(t, filepath.Join(dir, "more"), string(make([]byte, 64*1024)))
	})
	after, err := e.sn.Usage(e.ctx, "b")
	must(t, err)
	if after.Size < before.Size+64*1024 || after.Inodes != before.Inodes+1 {
		t.Errorf("usage of b after writing 64 KiB in one new file: %+v, before %+v", after, before)
	}
}
