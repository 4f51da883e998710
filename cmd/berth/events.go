package main

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/template"
	"time"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/engine"
)

func newEventsCmd(g *globals) *cobra.Command {
	var (
		since, until, format string
		filters              []string
	)
	cmd := &cobra.Command{
		Use:   "events [OPTIONS]",
		Short: "Show what happens to containers, images and volumes",
		Long: `Show events as docker does: container create, start, die (with its exit code),
stop, kill, pause, unpause, rename, update, destroy, exec_create/exec_start,
archive-path/extract-to-dir (cp); image pull, push, tag, untag, delete, load,
import, save; volume create and destroy.

Without --until berth follows new events until interrupted (from --since
when given, else from now); with --until it stops there. --since and --until
take RFC 3339 times, Unix times or durations (10m). Filters: type=, event=,
container=, image=, volume=, label=KEY[=VALUE] (values of one key are
alternatives, keys must all hold). --format takes "json" or a Go template
over .Type .Action .Actor.ID .Actor.Attributes .ID .From .Status .Time .TimeNano.

Events are kept in <root>/events.log (one JSON line each, the previous 10 MB
in events.log.1): berth has no daemon, so every berth command writes its own.
A container's die event is written by its monitor's exit command once it is
done, so it may come after the stop event of a berth stop; restarts by a
restart policy write no events.`,
		Args: cobra.NoArgs,
		RunE: g.withEngine(func(cmd *cobra.Command, args []string, e *engine.Engine) error {
			var o engine.EventsOptions
			var err error
			if o.Since, err = parseTime(since); err != nil {
				return err
			}
			if o.Until, err = parseTime(until); err != nil {
				return err
			}
			o.Filters = filters
			o.Follow = until == "" || o.Until.After(time.Now())
			print, err := eventPrinter(cmd.OutOrStdout(), format)
			if err != nil {
				return err
			}
			return e.Events(cmd.Context(), o, print)
		}),
	}
	f := cmd.Flags()
	f.StringVar(&since, "since", "", "show events since a time (RFC 3339, Unix time or a duration ago)")
	f.StringVar(&until, "until", "", "stop at a time (without it, follow)")
	f.StringArrayVarP(&filters, "filter", "f", nil, "filter the events (type=, event=, container=, image=, volume=, label=)")
	f.StringVar(&format, "format", "", `format the events: "json" or a Go template`)
	return cmd
}

// eventPrinter prints one event per line: docker's text ("<time> <type>
// <action> <actor> (k=v, …)"), JSON, or a template.
func eventPrinter(w io.Writer, format string) (func(engine.Event) error, error) {
	switch format {
	case "":
		return func(ev engine.Event) error {
			_, err := fmt.Fprintln(w, eventText(ev))
			return err
		}, nil
	case "json":
		enc := json.NewEncoder(w)
		return func(ev engine.Event) error { return enc.Encode(ev) }, nil
	}
	tmpl, err := template.New("format").Funcs(templateFuncs).Parse(format + "\n")
	if err != nil {
		return nil, usageError("--format %q: %v", format, err)
	}
	return func(ev engine.Event) error { return tmpl.Execute(w, ev) }, nil
}

// eventText is docker's line for an event, in local time:
//
//	2026-11-29T04:00:00.000000000+00:00 container start 4f… (image=busybox, name=web)
func eventText(ev engine.Event) string {
	var b strings.Builder
	b.WriteString(time.Unix(0, ev.TimeNano).Format("2006-01-02T15:04:05.000000000Z07:00"))
	fmt.Fprintf(&b, " %s %s %s", ev.Type, ev.Action, ev.Actor.ID)
	if len(ev.Actor.Attributes) > 0 {
		keys := make([]string, 0, len(ev.Actor.Attributes))
		for k := range ev.Actor.Attributes {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for i, k := range keys {
			if i == 0 {
				b.WriteString(" (")
			} else {
				b.WriteString(", ")
			}
			b.WriteString(k + "=" + ev.Actor.Attributes[k])
		}
		b.WriteString(")")
	}
	return b.String()
}
