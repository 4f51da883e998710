package rootless

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseRanges(t *testing.T) {
	file := `# comment
alice:100000:65536
bob:165536:65536
1000:231072:1000
alice:garbage:1
alice:300000:0

1001:400000:10
`
	got, err := parseRanges(strings.NewReader(file), "alice", 1000)
	if err != nil {
		t.Fatal(err)
	}
	want := []Range{{100000, 65536}, {231072, 1000}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ranges of alice (1000) = %v, want %v", got, want)
	}
	if got, _ := parseRanges(strings.NewReader(file), "carol", 1002); len(got) != 0 {
		t.Errorf("ranges of carol = %v, want none", got)
	}
}

func TestMapArgs(t *testing.T) {
	got := strings.Join(mapArgs(1000, []Range{{100000, 65536}, {231072, 1000}}), " ")
	if want := "0 1000 1 1 100000 65536 65537 231072 1000"; got != want {
		t.Errorf("mapArgs = %q, want %q", got, want)
	}
	if got := strings.Join(mapArgs(1000, nil), " "); got != "0 1000 1" {
		t.Errorf("mapArgs without ranges = %q", got)
	}
}
