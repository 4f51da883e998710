package main

import (
	"strings"
	"testing"
	"time"

	"github.com/berth-project/berth/internal/engine"
)

func TestSplitCpArg(t *testing.T) {
	for arg, want := range map[string][2]string{
		"web:/etc/hosts": {"web", "/etc/hosts"},
		"web:etc":        {"web", "etc"},
		"/tmp/a:b":       {"", "/tmp/a:b"},
		"./a:b":          {"", "./a:b"},
		"file":           {"", "file"},
		"-":              {"", "-"},
		"web:":           {"web", ""},
	} {
		ctr, p := splitCpArg(arg)
		if ctr != want[0] || p != want[1] {
			t.Errorf("splitCpArg(%q) = %q, %q; want %q, %q", arg, ctr, p, want[0], want[1])
		}
	}
}

func TestEventText(t *testing.T) {
	ts := time.Date(2026, 11, 29, 4, 0, 0, 123, time.Local)
	ev := engine.Event{Type: "container", Action: "start", Actor: engine.EventActor{ID: "4f2a", Attributes: map[string]string{"name": "web", "image": "busybox"}}, TimeNano: ts.UnixNano()}
	want := ts.Format("2006-01-02T15:04:05.000000000Z07:00") + " container start 4f2a (image=busybox, name=web)"
	if got := eventText(ev); got != want {
		t.Fatalf("eventText = %q, want %q", got, want)
	}
	ev.Actor.Attributes = nil
	if got := eventText(ev); !strings.HasSuffix(got, " container start 4f2a") {
		t.Fatalf("eventText without attributes = %q", got)
	}
}

func TestStatsLine(t *testing.T) {
	prev := engine.ContainerStats{ID: strings.Repeat("a", 64), Name: "web", Running: true, CPUTotal: 0, SystemCPU: 0, OnlineCPUs: 2}
	cur := prev
	cur.CPUTotal, cur.SystemCPU = 1e9, 4e9
	cur.MemUsage, cur.MemLimit = 1536<<10, 64<<20
	cur.NetRx, cur.NetTx, cur.BlockRead, cur.BlockWrite, cur.Pids = 1200, 0, 4096, 0, 3
	r := statsLine("web", prev, cur, false)
	want := statsRow{Container: "web", Name: "web", ID: strings.Repeat("a", 12), CPUPerc: "50.00%",
		MemUsage: "1.5MiB / 64MiB", MemPerc: "2.34%", NetIO: "1.2kB / 0B", BlockIO: "4.1kB / 0B", PIDs: "3"}
	if r != want {
		t.Fatalf("statsLine = %+v\nwant %+v", r, want)
	}
	if r := statsLine("web", prev, engine.ContainerStats{ID: "b", Name: "db"}, false); r.MemUsage != "0B / 0B" || r.PIDs != "0" {
		t.Fatalf("a stopped container: %+v", r)
	}
}
