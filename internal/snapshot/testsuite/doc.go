// Package testsuite checks a snapshot.Snapshotter against the contract of
// package snapshot, with real mounts and real files. Every implementation
// runs it from its own tests:
//
//	func TestOverlay(t *testing.T) {
//		testenv.RequiresRoot(t)
//		testsuite.Run(t, func(t *testing.T, root string) snapshot.Snapshotter {
//			sn, err := overlay.New(root, overlay.Options{})
//			if err != nil {
//				t.Fatal(err)
//			}
//			return sn
//		})
//	}
//
// It covers layer chains seen through their mounts (contents, deletions,
// opaque directories, metadata, hard links, devices), kinds and error
// classes, Walk, Usage, cleanup after Remove (the root's tree is as it was
// when opened), concurrent use of one key or name from goroutines and from
// two snapshotters on one root, reopening, and a process killed with
// SIGKILL in the middle of its work (the suite re-executes the test binary
// for that, selecting its own subtest with -test.run).
//
// The suite needs root (it mounts) and leaves no mount behind; every case
// checks /proc/self/mountinfo at its end.
package testsuite
