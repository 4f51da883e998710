package engine

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestEventFilter(t *testing.T) {
	ctr := Event{Type: EventContainer, Action: "die", Scope: "local", Actor: EventActor{ID: "4f2a9c", Attributes: map[string]string{"name": "web", "image": "busybox:1", "exitCode": "0", "tier": "front"}}}
	exec := Event{Type: EventContainer, Action: "exec_start: sh -c ls", Scope: "local", Actor: EventActor{ID: "4f2a9c", Attributes: map[string]string{"name": "web", "image": "busybox:1"}}}
	img := Event{Type: EventImage, Action: "pull", Scope: "local", Actor: EventActor{ID: "busybox:1", Attributes: map[string]string{"name": "busybox"}}}
	vol := Event{Type: EventVolume, Action: "create", Scope: "local", Actor: EventActor{ID: "data", Attributes: map[string]string{"driver": "local"}}}
	for _, c := range []struct {
		filters []string
		ev      Event
		want    bool
	}{
		{nil, ctr, true},
		{[]string{"type=container"}, ctr, true},
		{[]string{"type=image"}, ctr, false},
		{[]string{"type=image", "type=container"}, ctr, true},
		{[]string{"event=die"}, ctr, true},
		{[]string{"event=start"}, ctr, false},
		{[]string{"event=exec_start"}, exec, true},
		{[]string{"event=exec_create"}, exec, false},
		{[]string{"container=web"}, ctr, true},
		{[]string{"container=4f2a"}, ctr, true},
		{[]string{"container=db"}, ctr, false},
		{[]string{"container=web"}, img, false},
		{[]string{"image=busybox"}, ctr, true},
		{[]string{"image=busybox:1"}, ctr, true},
		{[]string{"image=busybox:2"}, ctr, false},
		{[]string{"image=busybox"}, img, true},
		{[]string{"image=alpine"}, img, false},
		{[]string{"volume=data"}, vol, true},
		{[]string{"volume=data"}, ctr, false},
		{[]string{"label=tier"}, ctr, true},
		{[]string{"label=tier=front"}, ctr, true},
		{[]string{"label=tier=back"}, ctr, false},
		{[]string{"label=tier", "label=zone"}, ctr, false},
		{[]string{"type=container", "event=die", "container=web"}, ctr, true},
		{[]string{"type=container", "event=start", "container=web"}, ctr, false},
	} {
		match, err := EventFilter(c.filters)
		if err != nil {
			t.Fatalf("%v: %v", c.filters, err)
		}
		if got := match(c.ev); got != c.want {
			t.Errorf("%v on %s %s: %v, want %v", c.filters, c.ev.Type, c.ev.Action, got, c.want)
		}
	}
	for _, bad := range []string{"nokey", "colour=red", "type=spaceship"} {
		if _, err := EventFilter([]string{bad}); err == nil {
			t.Errorf("filter %q: no error", bad)
		}
	}
}

func TestStripTag(t *testing.T) {
	for in, want := range map[string]string{
		"busybox:1": "busybox", "busybox": "busybox", "127.0.0.1:5000/x/y:2": "127.0.0.1:5000/x/y",
		"127.0.0.1:5000/x": "127.0.0.1:5000/x", "sha256:abc": "sha256:abc",
	} {
		if got := stripTag(in); got != want {
			t.Errorf("stripTag(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestEventsLog writes events as several processes would, rotates the
// log, and reads it back: in order, bounded by time, and followed across a
// rotation.
func TestEventsLog(t *testing.T) {
	e := &Engine{cfg: Config{Root: t.TempDir()}}
	ctx := context.Background()
	c := Container{ID: strings.Repeat("a", 64), Name: "web", Image: "busybox", Labels: map[string]string{"tier": "front"}}
	e.containerEvent(nil, c, "create")
	if err := e.containerEvent(os.ErrExist, c, "start"); err != os.ErrExist {
		t.Fatalf("containerEvent passed on %v", err)
	}
	mid := time.Now()
	e.containerEvent(nil, c, "start")
	e.volumeEvent(nil, "data", "create")

	var got []string
	collect := func(ev Event) error { got = append(got, ev.Type+" "+ev.Action); return nil }
	if err := e.Events(ctx, EventsOptions{}, collect); err != nil {
		t.Fatal(err)
	}
	if want := "container create,container start,volume create"; strings.Join(got, ",") != want {
		t.Fatalf("events: %q, want %q", got, want)
	}
	got = nil
	if err := e.Events(ctx, EventsOptions{Since: mid, Filters: []string{"type=container"}}, collect); err != nil {
		t.Fatal(err)
	}
	if want := "container start"; strings.Join(got, ",") != want {
		t.Fatalf("events since with a filter: %q, want %q", got, want)
	}

	// A full log moves to events.log.1 at the next write; both are read.
	path := filepath.Join(e.cfg.Root, eventsFile)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	pad := strings.Repeat("x", 1<<20)
	for i := 0; i < eventsMaxSize>>20; i++ {
		f.WriteString(pad + "\n") // not JSON: skipped by readers
	}
	f.Close()
	e.containerEvent(nil, c, "stop")
	if _, err := os.Stat(path + ".1"); err != nil {
		t.Fatalf("no rotation: %v", err)
	}
	got = nil
	if err := e.Events(ctx, EventsOptions{}, collect); err != nil {
		t.Fatal(err)
	}
	if want := "container create,container start,volume create,container stop"; strings.Join(got, ",") != want {
		t.Fatalf("events across a rotation: %q, want %q", got, want)
	}

	// Follow: an event written after the reader started, then a rotation.
	fctx, cancel := context.WithCancel(ctx)
	defer cancel()
	seen := make(chan string, 10)
	done := make(chan error, 1)
	go func() {
		done <- e.Events(fctx, EventsOptions{Follow: true}, func(ev Event) error { seen <- ev.Action; return nil })
	}()
	next := func(action string) {
		t.Helper()
		deadline := time.After(time.Minute)
		for {
			e.containerEvent(nil, c, action)
			select {
			case a := <-seen:
				for a != action {
					select {
					case a = <-seen:
					case <-deadline:
						t.Fatalf("follow: no %s event", action)
					}
				}
				return
			case <-time.After(300 * time.Millisecond):
				// The reader may not have opened the log yet: write again.
			case <-deadline:
				t.Fatalf("follow: no %s event", action)
			}
		}
	}
	next("pause")
	os.Rename(path, path+".1")
	next("unpause")
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
