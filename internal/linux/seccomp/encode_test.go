package seccomp

import (
	"encoding/json"
	"slices"
	"testing"
)

func TestFilterJSONRoundTrip(t *testing.T) {
	f, _, err := Compile(DefaultProfile([]string{"CAP_CHOWN"}))
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	var g Filter
	if err := json.Unmarshal(data, &g); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(f.Program(), g.Program()) || f.Flags() != g.Flags() {
		t.Errorf("round trip changed the filter: %d/%d instructions, flags %#x/%#x", f.Len(), g.Len(), f.Flags(), g.Flags())
	}
	if err := json.Unmarshal([]byte(`{"prog":"AAAA","flags":0}`), &g); err == nil {
		t.Error("a program of 3 bytes decoded without error")
	}
}
