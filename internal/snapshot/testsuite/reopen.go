package testsuite

import (
	"testing"

	"github.com/berth-project/berth/internal/snapshot"
)

func testReopen(t *testing.T, e *env) {
	buildChain(t, e)
	ms, err := e.sn.Prepare(e.ctx, "ctr", "l3", map[string]string{"owner": "test"})
	must(t, err)
	withMounted(t, ms, func(dir string) { writeFile(t, dir+"/c", "container") })
	_, err = e.sn.View(e.ctx, "view", "l2", nil)
	must(t, err)
	before := countSnapshots(t, e)
	must(t, e.sn.Close())

	reopened := e.new(t, e.root)
	t.Cleanup(func() { reopened.Close() })
	e.sn = reopened
	after := countSnapshots(t, e)
	if len(after) != len(before) {
		t.Errorf("after reopening %d snapshots, before %d", len(after), len(before))
	}
	for key, b := range before {
		a, ok := after[key]
		if !ok || a.Kind != b.Kind || a.Parent != b.Parent || !a.Created.Equal(b.Created) {
			t.Errorf("after reopening %q is %+v, was %+v", key, a, b)
		}
	}
	checkInfo(t, e, "ctr", snapshot.KindActive, "l3", map[string]string{"owner": "test"})
	ms, err = e.sn.Mounts(e.ctx, "ctr")
	must(t, err)
	withMounted(t, ms, func(dir string) { checkFile(t, dir+"/c", "container") })
	ms, err = e.sn.Mounts(e.ctx, "view")
	must(t, err)
	withMounted(t, ms, func(dir string) { checkLayer2(t, dir) })
	ms, err = e.sn.View(e.ctx, "view3", "l3", nil)
	must(t, err)
	withMounted(t, ms, func(dir string) { checkLayer3(t, dir) })

	removeAll(t, e)
	checkTreeIs(t, e.root, e.baseline)
}
