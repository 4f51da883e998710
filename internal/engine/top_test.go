package engine

import (
	"reflect"
	"testing"
)

func TestParsePS(t *testing.T) {
	out := `UID          PID    PPID  C STIME TTY          TIME CMD
root           1       0  0 04:00 ?        00:00:01 /sbin/init
root        4242    4200  0 04:01 ?        00:00:00 /probe sleep  600
root        4243    4242  0 04:01 ?        00:00:00 sh -c echo hi
`
	res, err := parsePS(out, []int{4242, 4243})
	if err != nil {
		t.Fatal(err)
	}
	want := TopResult{
		Titles: []string{"UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"},
		Processes: [][]string{
			{"root", "4242", "4200", "0", "04:01", "?", "00:00:00", "/probe sleep 600"},
			{"root", "4243", "4242", "0", "04:01", "?", "00:00:00", "sh -c echo hi"},
		},
	}
	if !reflect.DeepEqual(res, want) {
		t.Fatalf("parsePS = %#v\nwant %#v", res, want)
	}
	if _, err := parsePS("USER COMMAND\nroot init\n", []int{1}); err == nil {
		t.Fatal("no PID column: no error")
	}
	if _, err := parsePS("PID CMD\nx y\n", []int{1}); err == nil {
		t.Fatal("a non-numeric pid: no error")
	}
}

func TestCheckPSArgs(t *testing.T) {
	for _, ok := range [][]string{{"-ef"}, {"aux"}, {"-o", "pid,comm"}, {"-o", "pid=PID"}} {
		if err := checkPSArgs(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range [][]string{{"-o", "user=PID"}, {"-o", "pid,comm=PIDX"}} {
		if err := checkPSArgs(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}
