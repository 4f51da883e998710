package main

import (
	"encoding/json"
	"os"
	"time"

	"github.com/spf13/cobra"
)

// event is one line of `events` output (runc's format).
type event struct {
	Type string `json:"type"`
	ID   string `json:"id"`
	Data any    `json:"data,omitempty"`
}

func newEventsCmd(g *globals) *cobra.Command {
	var stats bool
	var interval time.Duration
	cmd := &cobra.Command{
		Use:   "events [flags] <container-id>",
		Short: "Print a container's resource statistics and OOM events as JSON",
		Long: `events prints a JSON line of cgroup statistics every --interval, and an
"oom" line whenever the OOM killer struck, until the container stops. With
--stats it prints the statistics once.`,
		Args: oneID,
		RunE: func(cmd *cobra.Command, args []string) error {
			r := g.runtime()
			id := args[0]
			enc := json.NewEncoder(os.Stdout)
			if stats {
				s, err := r.Stats(id)
				if err != nil {
					return err
				}
				return enc.Encode(event{Type: "stats", ID: id, Data: s})
			}
			ooms, err := r.OOMKills(id)
			if err != nil {
				return err
			}
			for {
				// Alive before the OOM count: a kill that stopped the
				// container is counted before its death shows, so the
				// last round still reports it.
				alive := r.Alive(id)
				if n, err := r.OOMKills(id); err == nil && n > ooms {
					ooms = n
					if err := enc.Encode(event{Type: "oom", ID: id}); err != nil {
						return err
					}
				}
				if !alive {
					return nil
				}
				s, err := r.Stats(id)
				if err != nil {
					if !r.Alive(id) {
						continue // one last round for an OOM kill
					}
					return err
				}
				if err := enc.Encode(event{Type: "stats", ID: id, Data: s}); err != nil {
					return err
				}
				time.Sleep(interval)
			}
		},
	}
	cmd.Flags().BoolVar(&stats, "stats", false, "print the statistics once and exit")
	cmd.Flags().DurationVar(&interval, "interval", 5*time.Second, "time between two statistics lines")
	return cmd
}
