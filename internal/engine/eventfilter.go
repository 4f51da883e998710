package engine

import (
	"fmt"
	"slices"
	"strings"

	"github.com/berth-project/berth/internal/errdefs"
)

// eventTypes are the types docker's --filter type= takes (Berth emits
// container, image and volume events; the others match nothing yet).
var eventTypes = []string{"container", "image", "volume", "network", "daemon", "plugin", "service", "node", "secret", "config"}

// EventFilter compiles docker's `events --filter` list as docker's
// events.Filter does: values of one key are alternatives, every key must
// hold, and label= filters must all hold.
//
//	type=container|image|volume|…  the event's type
//	event=die                      the action (exec_create, exec_start and
//	                               health_status also match "exec_start: sh …")
//	container=web                  a container's name or ID (or a prefix)
//	image=busybox                  a container's image or an image's ID or name, with or without its tag
//	volume=data                    a volume's name
//	label=k or label=k=v           an attribute of the actor
//	scope=local
func EventFilter(filters []string) (func(Event) bool, error) {
	byKey := map[string][]string{}
	for _, f := range filters {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			return nil, fmt.Errorf("filter %q: want key=value: %w", f, errdefs.ErrInvalidArgument)
		}
		switch k {
		case "container", "event", "image", "label", "type", "volume", "scope", "network", "daemon", "plugin":
		default:
			return nil, fmt.Errorf("filter %q: invalid filter %q (want type, event, container, image, volume, label or scope): %w", f, k, errdefs.ErrInvalidArgument)
		}
		if k == "type" && !slices.Contains(eventTypes, v) {
			return nil, fmt.Errorf("filter %q: unknown event type %q (want one of %s): %w", f, v, strings.Join(eventTypes, ", "), errdefs.ErrInvalidArgument)
		}
		byKey[k] = append(byKey[k], v)
	}
	exact := func(k, s string) bool { vs, ok := byKey[k]; return !ok || slices.Contains(vs, s) }
	fuzzy := func(k string, ss ...string) bool {
		vs, ok := byKey[k]
		if !ok {
			return true
		}
		return slices.ContainsFunc(vs, func(v string) bool {
			return slices.ContainsFunc(ss, func(s string) bool { return s != "" && strings.HasPrefix(s, v) })
		})
	}
	actorOf := func(typ string, ev Event) bool {
		if _, ok := byKey[typ]; !ok {
			return true
		}
		return ev.Type == typ && fuzzy(typ, ev.Actor.ID, ev.Actor.Attributes["name"])
	}
	return func(ev Event) bool {
		action := ev.Action
		if slices.ContainsFunc(byKey["event"], func(v string) bool {
			return v == "exec_create" || v == "exec_start" || v == "health_status"
		}) {
			action, _, _ = strings.Cut(action, ":")
		}
		if !exact("event", action) || !exact("type", ev.Type) || !exact("scope", ev.Scope) {
			return false
		}
		if !actorOf(EventContainer, ev) || !actorOf("network", ev) || !actorOf("plugin", ev) || !actorOf("daemon", ev) {
			return false
		}
		if _, ok := byKey["volume"]; ok && (ev.Type != EventVolume || !exact("volume", ev.Actor.ID)) {
			return false
		}
		if vs, ok := byKey["image"]; ok {
			name := ev.Actor.Attributes["image"]
			if ev.Type == EventImage {
				name = ev.Actor.Attributes["name"]
			}
			cands := []string{ev.Actor.ID, name, stripTag(ev.Actor.ID), stripTag(name)}
			if !slices.ContainsFunc(vs, func(v string) bool { return slices.Contains(cands, v) }) {
				return false
			}
		}
		for _, l := range byKey["label"] {
			k, v, hasValue := strings.Cut(l, "=")
			got, ok := ev.Actor.Attributes[k]
			if !ok || hasValue && got != v {
				return false
			}
		}
		return true
	}, nil
}

// stripTag drops the tag of an image name ("busybox:1" → "busybox",
// "host:5000/x" stays).
func stripTag(name string) string {
	slash := strings.LastIndex(name, "/")
	if i := strings.LastIndex(name, ":"); i > slash && !strings.HasPrefix(name, "sha256:") {
		return name[:i]
	}
	return name
}
