package engine

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/imagearchive"
	"github.com/berth-project/berth/internal/store"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Event is one thing that happened to a container, image or volume, in the
// JSON of docker's events API (and `docker events --format json`):
//
//	{"status":"start","id":"4f…","from":"busybox","Type":"container","Action":"start",
//	 "Actor":{"ID":"4f…","Attributes":{"image":"busybox","name":"web"}},
//	 "scope":"local","time":1795492800,"timeNano":1795492800123456789}
//
// status, id and from are docker's older fields, kept for containers and
// images as docker keeps them.
type Event struct {
	Status   string     `json:"status,omitempty"`
	ID       string     `json:"id,omitempty"`
	From     string     `json:"from,omitempty"`
	Type     string     `json:"Type"`
	Action   string     `json:"Action"`
	Actor    EventActor `json:"Actor"`
	Scope    string     `json:"scope"`
	Time     int64      `json:"time"`
	TimeNano int64      `json:"timeNano"`
}

// EventActor is what an event happened to.
type EventActor struct {
	ID         string            `json:"ID"`
	Attributes map[string]string `json:"Attributes"`
}

// The types of events.
const (
	EventContainer = "container"
	EventImage     = "image"
	EventVolume    = "volume"
)

// The event log: <root>/events.log, one JSON line per event, appended by
// every berth process (an O_APPEND write of a line lands whole at the end),
// moved to events.log.1 once it passes eventsMaxSize (one old file kept).
const (
	eventsFile    = "events.log"
	eventsMaxSize = 10 << 20
)

func (e *Engine) eventsPath() string { return filepath.Join(e.cfg.Root, eventsFile) }

// containerEvent records action on c when err is nil and returns err, so
// that a use-case hooks an event in one line:
//
//	return c, e.containerEvent(e.runtimeFor(c).Pause(ctx, c.ID), c, "pause")
//
// attrs are extra attribute pairs ("exitCode", "0"); the container's
// name, image and labels are always there, as in docker.
func (e *Engine) containerEvent(err error, c Container, action string, attrs ...string) error {
	if err != nil {
		return err
	}
	a := map[string]string{}
	for k, v := range c.Labels {
		a[k] = v
	}
	a["name"], a["image"] = c.Name, c.Image
	for i := 0; i+1 < len(attrs); i += 2 {
		a[attrs[i]] = attrs[i+1]
	}
	e.record(Event{Status: action, ID: c.ID, From: c.Image, Type: EventContainer, Action: action,
		Actor: EventActor{ID: c.ID, Attributes: a}})
	return nil
}

// imageEvent records action on the image id (a reference for pull and
// push, an image ID otherwise, as docker) named name, when err is nil, and
// returns err.
func (e *Engine) imageEvent(err error, id, name, action string) error {
	if err != nil {
		return err
	}
	e.record(Event{Status: action, ID: id, Type: EventImage, Action: action,
		Actor: EventActor{ID: id, Attributes: map[string]string{"name": name}}})
	return nil
}

// volumeEvent records action on the volume name when err is nil, and
// returns err.
func (e *Engine) volumeEvent(err error, name, action string) error {
	if err != nil {
		return err
	}
	e.record(Event{Type: EventVolume, Action: action,
		Actor: EventActor{ID: name, Attributes: map[string]string{"driver": "local"}}})
	return nil
}

// die records a container's exit with its code (Cleanup, the monitor's
// exit command, calls it once the container is done).
func (e *Engine) die(ctx context.Context, c Container) {
	st := e.State(ctx, c)
	e.containerEvent(nil, c, "die", "exitCode", strconv.Itoa(st.ExitCode))
}

// record appends ev to the event log. Events are a record of what
// happened, not part of it: a log that cannot be written loses the event
// and fails nothing.
func (e *Engine) record(ev Event) {
	now := time.Now()
	ev.Scope, ev.Time, ev.TimeNano = "local", now.Unix(), now.UnixNano()
	line, err := json.Marshal(ev)
	if err != nil {
		return
	}
	f, err := e.openEvents()
	if err != nil {
		return
	}
	defer f.Close()
	f.Write(append(line, '\n'))
}

// openEvents opens the event log for appending, rotating it first when it
// is full.
func (e *Engine) openEvents() (*os.File, error) {
	path := e.eventsPath()
	open := func() (*os.File, error) {
		return os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|syscall.O_CLOEXEC, 0o600)
	}
	f, err := open()
	if err != nil {
		return nil, err
	}
	if fi, err := f.Stat(); err != nil || fi.Size() < eventsMaxSize {
		return f, nil
	}
	f.Close()
	// One process rotates; the others find a fresh file when they get the
	// lock.
	unlock, err := lockFile(context.Background(), path+".lock")
	if err != nil {
		return nil, err
	}
	defer unlock()
	if fi, err := os.Stat(path); err == nil && fi.Size() >= eventsMaxSize {
		if err := os.Rename(path, path+".1"); err != nil {
			return nil, err
		}
	}
	return open()
}

// EventsOptions are `berth events`'s flags.
type EventsOptions struct {
	// Since and Until bound the events by time (zero: unbounded). Without
	// Follow, the log as it is is read; with Follow, events are read as
	// they come until ctx is done or Until passes — from Since, or from
	// now when Since is zero.
	Since, Until time.Time
	Follow       bool
	// Filters are docker's: type=, event=, container=, image=, label=,
	// volume= (values of one key are alternatives; keys must all hold).
	Filters []string
}

// Events calls fn with each event of the log that passes o, in the order
// they were written.
func (e *Engine) Events(ctx context.Context, o EventsOptions, fn func(Event) error) error {
	match, err := EventFilter(o.Filters)
	if err != nil {
		return err
	}
	if !o.Since.IsZero() && !o.Until.IsZero() && o.Until.Before(o.Since) {
		return fmt.Errorf("--until %s is before --since %s: %w", o.Until.Format(time.RFC3339), o.Since.Format(time.RFC3339), errdefs.ErrInvalidArgument)
	}
	if !o.Until.IsZero() && !o.Until.After(time.Now()) {
		o.Follow = false // nothing more can come
	}
	emit := func(ev Event) error {
		t := time.Unix(0, ev.TimeNano)
		if !o.Since.IsZero() && t.Before(o.Since) || !o.Until.IsZero() && t.After(o.Until) || !match(ev) {
			return nil
		}
		return fn(ev)
	}
	path := e.eventsPath()
	r := &eventReader{path: path}
	defer r.close()
	if !o.Follow || !o.Since.IsZero() {
		if err := readEventFile(path+".1", emit); err != nil {
			return err
		}
		if err := r.open(0); err != nil {
			return err
		}
		if err := r.drain(emit); err != nil {
			return err
		}
		if !o.Follow {
			return nil
		}
	} else if err := r.open(io.SeekEnd); err != nil {
		return err
	}
	for {
		wait := 100 * time.Millisecond
		if !o.Until.IsZero() {
			left := time.Until(o.Until)
			if left <= 0 {
				return r.drain(emit) // what was written up to Until
			}
			wait = min(wait, left)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
		if err := r.drain(emit); err != nil {
			return err
		}
		if err := r.follow(emit); err != nil {
			return err
		}
	}
}

// eventReader reads the event log as it grows, across rotations.
type eventReader struct {
	path    string
	f       *os.File
	partial []byte // a line not yet ended
}

// open opens the log at its start (whence 0) or its end (io.SeekEnd); a
// missing log is an empty one, opened when it appears.
func (r *eventReader) open(whence int) error {
	f, err := os.Open(r.path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("events: %w", err)
	}
	if _, err := f.Seek(0, whence); err != nil {
		f.Close()
		return fmt.Errorf("events: %w", err)
	}
	r.f, r.partial = f, nil
	return nil
}

// drain hands on every whole line written since the last drain.
func (r *eventReader) drain(fn func(Event) error) error {
	if r.f == nil {
		return nil
	}
	b, err := io.ReadAll(r.f)
	if err != nil {
		return fmt.Errorf("events: %w", err)
	}
	data := append(r.partial, b...)
	for {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			break
		}
		line := data[:i]
		data = data[i+1:]
		var ev Event
		if json.Unmarshal(line, &ev) != nil {
			continue // a torn or foreign line
		}
		if err := fn(ev); err != nil {
			return err
		}
	}
	r.partial = append([]byte(nil), data...)
	return nil
}

// follow moves to the current log when the one read was rotated away (or
// the log appears), reading the old one to its end first.
func (r *eventReader) follow(fn func(Event) error) error {
	cur, err := os.Stat(r.path)
	if err != nil {
		return nil // rotated and not written since
	}
	if r.f != nil {
		old, err := r.f.Stat()
		if err == nil && os.SameFile(old, cur) {
			return nil
		}
		if err := r.drain(fn); err != nil {
			return err
		}
		r.f.Close()
		r.f = nil
	}
	if err := r.open(0); err != nil {
		return err
	}
	return r.drain(fn)
}

func (r *eventReader) close() {
	if r.f != nil {
		r.f.Close()
	}
}

// readEventFile hands on every event of a whole file (a missing one has
// none).
func readEventFile(path string, fn func(Event) error) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("events: %w", err)
	}
	defer f.Close()
	br := bufio.NewReader(f)
	for {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 && line[len(line)-1] == '\n' {
			var ev Event
			if json.Unmarshal(line, &ev) == nil {
				if err := fn(ev); err != nil {
					return err
				}
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("events: %w", err)
		}
	}
}

// imagesRemoved records the untag and delete events of an rmi or a prune
// when err is nil, and returns err. (docker names the image ID in an
// untag event; Berth names the name taken off, which says more.)
func (e *Engine) imagesRemoved(err error, res RemoveResult) error {
	if err != nil {
		return err
	}
	for _, n := range res.Untagged {
		e.imageEvent(nil, n, n, "untag")
	}
	for _, id := range res.Deleted {
		e.imageEvent(nil, id.String(), id.String(), "delete")
	}
	return nil
}

// imported records the import of img when err is nil, passing both on.
func (e *Engine) imported(img store.Image, err error) (store.Image, error) {
	if err == nil {
		e.imageEvent(nil, img.Config.String(), familiar(img.Name), "import")
	}
	return img, err
}

// saved records a save event for each image saved when err is nil, and
// returns err.
func (e *Engine) saved(err error, named []imagearchive.Named) error {
	if err != nil {
		return err
	}
	for _, n := range named {
		e.imageEvent(nil, n.Target.Digest.String(), familiar(n.Name), "save")
	}
	return nil
}

// execEvents records the exec_create and exec_start of process p in c, with
// docker's action text ("exec_start: sh -c ls") and an exec ID of its own.
func (e *Engine) execEvents(c Container, p *specs.Process) {
	id, err := newID()
	if err != nil {
		return
	}
	cmd := strings.Join(p.Args, " ")
	e.containerEvent(nil, c, "exec_create: "+cmd, "execID", id)
	e.containerEvent(nil, c, "exec_start: "+cmd, "execID", id)
}
