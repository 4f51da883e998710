package testsuite

import (
	"testing"

	"github.com/berth-project/berth/internal/snapshot"
)

func testRemoveLeavesNothing(t *testing.T, e *env) {
	buildChain(t, e)
	_, err := e.sn.View(e.ctx, "view", "l3", nil)
	must(t, err)
	_, err = e.sn.View(e.ctx, "view-empty", "", nil)
	must(t, err)
	ms, err := e.sn.Prepare(e.ctx, "ctr", "l3", nil)
	must(t, err)
	withMounted(t, ms, func(dir string) { writeFile(t, dir+"/written", "w") })

	removeAll(t, e)
	checkTreeIs(t, e.root, e.baseline)
}

// removeAll removes every snapshot, children before parents.
func removeAll(t *testing.T, e *env) {
	t.Helper()
	for {
		var infos []snapshot.Info
		must(t, e.sn.Walk(e.ctx, func(i snapshot.Info) error { infos = append(infos, i); return nil }))
		if len(infos) == 0 {
			return
		}
		parents := map[string]bool{}
		for _, i := range infos {
			parents[i.Parent] = true
		}
		removed := 0
		for _, i := range infos {
			if !parents[i.Key] {
				must(t, e.sn.Remove(e.ctx, i.Key))
				removed++
			}
		}
		if removed == 0 {
			t.Fatalf("no leaf among %+v", infos)
		}
	}
}
