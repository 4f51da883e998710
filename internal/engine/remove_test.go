package engine

import (
	"context"
	"testing"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/spec"
	"github.com/berth-project/berth/internal/store"
)

// TestRemoveAfterRename: a removal that read the container before a rename
// (rm racing rename) releases the container's new name, and leaves its old
// one to the container that took it meanwhile.
func TestRemoveAfterRename(t *testing.T) {
	e, ref := runEngine(t)
	ctx := context.Background()
	create := func(name string) Container {
		c, err := e.Create(ctx, CreateOptions{Name: name, Image: ref, Run: spec.RunOptions{Cmd: []string{"true"}}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if _, err := e.RemoveContainer(context.Background(), c.ID, RemoveOptions{Force: true}); err != nil && !errdefs.IsNotFound(err) {
				t.Errorf("remove %s: %v", name, err)
			}
		})
		return c
	}
	stale := create("first")
	if err := e.Rename(stale.ID, "renamed"); err != nil {
		t.Fatal(err)
	}
	second := create("first")
	if err := e.removeContainer(ctx, stale, false); err != nil {
		t.Fatal(err)
	}
	owner := func(name string) string {
		var o string
		e.db.View(func(tx *store.Tx) error { o, _ = tx.Owner(nameKind, name); return nil })
		return o
	}
	if o := owner("first"); o != second.ID {
		t.Errorf("name first: owner %q, want the second container %s", o, second.ID)
	}
	if o := owner("renamed"); o != "" {
		t.Errorf("name renamed: still held by %q after its container's removal", o)
	}
}
