package integration

import (
	"testing"

	"github.com/berth-project/berth/test/kit"
)

func TestRunProbe(t *testing.T) {
	r := newRuntime(t)
	b := kit.NewBundle(t)
	var rep struct {
		UID      int    `json:"uid"`
		Pid      int    `json:"pid"`
		Hostname string `json:"hostname"`
	}
	r.report(b, "smoke", &rep)
	if rep.Pid != 1 || rep.UID != 0 || rep.Hostname != "berth-test" {
		t.Errorf("report = %+v, want pid 1, uid 0, hostname berth-test", rep)
	}
	assertNoLeaks(t, r, "smoke", b)
}
