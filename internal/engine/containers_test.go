package engine

import (
	"testing"

	"github.com/berth-project/berth/internal/errdefs"
)

// TestContainerFilterValues: ps refuses a status no container can have and
// an exit code that is no number, as docker does (they listed nothing).
func TestContainerFilterValues(t *testing.T) {
	for _, f := range []string{"status=bogus", "status=", "exited=x", "exited=", "name", "color=red"} {
		if _, err := containerFilter([]string{f}); !errdefs.IsInvalidArgument(err) {
			t.Errorf("filter %q: %v, want an invalid argument", f, err)
		}
	}
	match, err := containerFilter([]string{"status=exited", "status=created", "exited=137"})
	if err != nil {
		t.Fatal(err)
	}
	s := ContainerSummary{State: State{Status: StatusExited, ExitCode: 137}}
	if !match(s) {
		t.Errorf("exited 137 does not match status=exited,created and exited=137")
	}
	if s.State.ExitCode = 1; match(s) {
		t.Errorf("exited 1 matches exited=137")
	}
}
