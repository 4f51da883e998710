package main

import (
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/engine"
)

func newLogsCmd(g *globals) *cobra.Command {
	var o engine.LogsOptions
	var since, until, tail string
	cmd := &cobra.Command{
		Use:   "logs [OPTIONS] CONTAINER",
		Short: "Show a container's output",
		Long: `Show what a container wrote, from its log (k8s-file or json-file, rotated
files included): -f follows it across rotations until the container exits;
--since and --until take RFC 3339 times or durations (10m); --tail N the last N lines.`,
		Args: cobra.ExactArgs(1),
		RunE: g.withEngine(func(cmd *cobra.Command, args []string, e *engine.Engine) error {
			var err error
			if o.Since, err = parseTime(since); err != nil {
				return err
			}
			if o.Until, err = parseTime(until); err != nil {
				return err
			}
			o.Tail = -1
			if tail != "" && tail != "all" {
				if o.Tail, err = parseTail(tail); err != nil {
					return err
				}
			}
			return e.Logs(cmd.Context(), args[0], o, os.Stdout, os.Stderr)
		}),
	}
	f := cmd.Flags()
	f.BoolVarP(&o.Follow, "follow", "f", false, "follow the log")
	f.BoolVarP(&o.Timestamps, "timestamps", "t", false, "show each line's time")
	f.StringVar(&since, "since", "", "lines since a time (RFC 3339) or a duration ago (10m)")
	f.StringVar(&until, "until", "", "lines before a time or a duration ago")
	f.StringVarP(&tail, "tail", "n", "all", "the last N lines")
	return cmd
}

// parseTime reads docker's --since/--until: RFC 3339 (with or without
// nanoseconds), a Unix time, or a duration before now.
func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		return time.Now().Add(-d), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	secs, frac, _ := strings.Cut(s, ".")
	if sec, err := strconv.ParseInt(secs, 10, 64); err == nil {
		nsec, _ := strconv.ParseInt((frac + "000000000")[:9], 10, 64)
		return time.Unix(sec, nsec), nil
	}
	return time.Time{}, usageError("time %q: want RFC 3339, a Unix time or a duration", s)
}

// parseTail reads --tail N; a negative N means all, as in docker.
func parseTail(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, usageError("--tail %q: want a number or all", s)
	}
	if n < 0 {
		return -1, nil
	}
	return n, nil
}
