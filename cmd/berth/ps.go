package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/engine"
)

// containerRow is one container as `berth ps` formats it: docker's fields.
type containerRow struct {
	ID, Image, Command, CreatedAt, RunningFor, Status, Names, State, Labels, Mounts, Networks, Ports, Size string
}

func newPsCmd(g *globals) *cobra.Command {
	var (
		all, quiet, noTrunc, latest bool
		last                        int
		format                      string
		filters                     []string
	)
	cmd := &cobra.Command{
		Use:     "ps [OPTIONS]",
		Aliases: []string{"list"},
		Short:   "List containers",
		Long: `List running containers (all with -a), newest first. Filters: status=, name=,
id=, label=KEY[=VALUE], ancestor=IMAGE, exited=CODE. --format takes "table",
"json" or a Go template over .ID .Image .Command .CreatedAt .RunningFor .Status
.Names .State .Labels .Mounts .Networks .Ports.`,
		Args: cobra.NoArgs,
		RunE: g.withEngine(func(cmd *cobra.Command, args []string, e *engine.Engine) error {
			cs, err := e.Containers(cmd.Context(), all || latest || last > 0, filters)
			if err != nil {
				return err
			}
			if latest {
				last = 1
			}
			if last > 0 && len(cs) > last {
				cs = cs[:last]
			}
			var rows []any
			for _, c := range cs {
				id := c.ID
				if !noTrunc {
					id = id[:12]
				}
				if quiet {
					fmt.Fprintln(cmd.OutOrStdout(), id)
					continue
				}
				command := strings.Join(append([]string{c.Path}, c.Args...), " ")
				if !noTrunc && len(command) > 20 {
					command = command[:19] + "…"
				}
				var labels, mounts []string
				for k, v := range c.Labels {
					labels = append(labels, k+"="+v)
				}
				for _, m := range c.Mounts {
					if m.Name != "" {
						mounts = append(mounts, m.Name)
					} else {
						mounts = append(mounts, m.Source)
					}
				}
				rows = append(rows, containerRow{
					ID: id, Image: c.Image, Command: fmt.Sprintf("%q", command),
					CreatedAt:  c.Created.Local().Format("2006-01-02 15:04:05 -0700 MST"),
					RunningFor: humanDuration(time.Since(c.Created)) + " ago",
					Status:     statusText(c.State), Names: c.Name, State: c.State.Status,
					Labels: strings.Join(labels, ","), Mounts: strings.Join(mounts, ","),
					Networks: strings.Join(c.NetworkNames(), ","), Ports: portsText(c.State.Running, e.ContainerPorts(c.Container)),
				})
			}
			if quiet {
				return nil
			}
			l := lister{format: format,
				table: `{{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}`,
				headers: map[string]string{"ID": "CONTAINER ID", "Image": "IMAGE", "Command": "COMMAND",
					"CreatedAt": "CREATED AT", "RunningFor": "CREATED", "Status": "STATUS", "Names": "NAMES",
					"State": "STATE", "Labels": "LABELS", "Mounts": "MOUNTS", "Networks": "NETWORKS", "Ports": "PORTS", "Size": "SIZE"}}
			return l.print(cmd.OutOrStdout(), rows)
		}),
	}
	f := cmd.Flags()
	f.BoolVarP(&all, "all", "a", false, "show every container, not only running ones")
	f.BoolVarP(&quiet, "quiet", "q", false, "print only IDs")
	f.BoolVar(&noTrunc, "no-trunc", false, "do not truncate")
	f.BoolVarP(&latest, "latest", "l", false, "show the latest container")
	f.IntVarP(&last, "last", "n", 0, "show the n latest containers")
	f.StringVar(&format, "format", "", "format the output: table, json or a Go template")
	f.StringArrayVarP(&filters, "filter", "f", nil, "filter the output")
	return cmd
}

// statusText is docker's STATUS column: "Up 5 minutes", "Exited (0) 2 hours ago".
func statusText(st engine.State) string {
	switch st.Status {
	case engine.StatusRunning, engine.StatusPaused:
		s := "Up " + humanDuration(time.Since(st.StartedAt))
		if st.Health != nil {
			s += " (" + st.Health.Status + ")"
		}
		if st.Paused {
			s += " (Paused)"
		}
		return s
	case engine.StatusRestarting:
		return fmt.Sprintf("Restarting (%d) %s ago", st.ExitCode, humanDuration(time.Since(st.FinishedAt)))
	case engine.StatusExited:
		if st.FinishedAt.IsZero() {
			return fmt.Sprintf("Exited (%d)", st.ExitCode)
		}
		return fmt.Sprintf("Exited (%d) %s ago", st.ExitCode, humanDuration(time.Since(st.FinishedAt)))
	}
	return "Created"
}

// portsText is docker's PORTS column: "0.0.0.0:8080->80/tcp, …", for a
// running container.
func portsText(running bool, ps []engine.PortBinding) string {
	if !running {
		return ""
	}
	var out []string
	for _, p := range ps {
		out = append(out, fmt.Sprintf("%s->%d/%s", p.HostAddr(), p.PrivatePort, p.Protocol))
	}
	return strings.Join(out, ", ")
}
