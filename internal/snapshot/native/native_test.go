package native

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/berth-project/berth/internal/snapshot"
	"github.com/berth-project/berth/internal/snapshot/testsuite"
	"github.com/berth-project/berth/internal/testenv"
)

func newNative(t *testing.T, root string) snapshot.Snapshotter {
	sn, err := New(root)
	if err != nil {
		t.Fatal(err)
	}
	return sn
}

func TestNative(t *testing.T) {
	testenv.RequiresRoot(t)
	testsuite.Run(t, newNative)
}

// TestCrashLeftovers leaves what a killed process would (a half-copied
// temporary directory, a numeric directory never committed) and checks
// that opening the root removes both.
func TestCrashLeftovers(t *testing.T) {
	root := t.TempDir()
	sn, err := New(root)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sn.Prepare(context.Background(), "kept", "", nil); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"snapshots/tmp-1/fs/usr/bin", "snapshots/42/fs"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := New(root); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(filepath.Join(root, "snapshots"))
	if err != nil || len(entries) != 1 || entries[0].Name() != "1" {
		t.Fatalf("after reopening snapshots/ holds %v (%v), want the one recorded", entries, err)
	}
}
