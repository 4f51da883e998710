package testsuite

import (
	"context"
	"os"
	"testing"

	"github.com/berth-project/berth/internal/snapshot"
)

// NewFunc opens the snapshotter under test at root (the same root again
// to reopen it). It fails t when it cannot.
type NewFunc func(t *testing.T, root string) snapshot.Snapshotter

// Run runs every case of the suite against the snapshotters newSnapshotter
// makes, each case on a fresh root.
func Run(t *testing.T, newSnapshotter NewFunc) {
	if os.Getenv(crashEnv) != "" {
		// A re-executed child of the Crash case: only that case runs.
		t.Run("Crash", func(t *testing.T) { crashChild(t, newSnapshotter) })
		return
	}
	cases := []struct {
		name string
		fn   func(*testing.T, *env)
	}{
		{"LayerChain", testLayerChain},
		{"DetachedApply", testDetachedApply},
		{"DeepChain", testDeepChain},
		{"Kinds", testKinds},
		{"Errors", testErrors},
		{"Walk", testWalk},
		{"Usage", testUsage},
		{"RemoveLeavesNothing", testRemoveLeavesNothing},
		{"ConcurrentPrepare", testConcurrentPrepare},
		{"ConcurrentCommit", testConcurrentCommit},
		{"ConcurrentRemoveAndPrepare", testConcurrentRemoveAndPrepare},
		{"TwoSnapshottersOneRoot", testTwoSnapshotters},
		{"Reopen", testReopen},
		{"Crash", testCrash},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.fn(t, newEnv(t, newSnapshotter))
		})
	}
}

// env is one case's snapshotter on its own root.
type env struct {
	ctx  context.Context
	root string
	new  NewFunc
	sn   snapshot.Snapshotter
	// baseline is the root's tree right after opening.
	baseline []string
}

func newEnv(t *testing.T, newSnapshotter NewFunc) *env {
	t.Helper()
	root := t.TempDir()
	t.Cleanup(func() { checkNoMounts(t, root) })
	sn := newSnapshotter(t, root)
	t.Cleanup(func() { sn.Close() })
	return &env{ctx: context.Background(), root: root, new: newSnapshotter, sn: sn, baseline: listTree(t, root)}
}
