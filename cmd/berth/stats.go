package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/berth-project/berth/internal/engine"
)

// statsRow is one line of `berth stats`: docker's fields.
type statsRow struct {
	Container, Name, ID, CPUPerc, MemUsage, MemPerc, NetIO, BlockIO, PIDs string
}

var statsHeaders = map[string]string{
	"Container": "CONTAINER", "Name": "NAME", "ID": "CONTAINER ID", "CPUPerc": "CPU %",
	"MemUsage": "MEM USAGE / LIMIT", "MemPerc": "MEM %", "NetIO": "NET I/O", "BlockIO": "BLOCK I/O", "PIDs": "PIDS",
}

func newStatsCmd(g *globals) *cobra.Command {
	var (
		all, noStream, noTrunc bool
		format                 string
	)
	cmd := &cobra.Command{
		Use:   "stats [OPTIONS] [CONTAINER...]",
		Short: "Show containers' resource use, live",
		Long: `Show the CPU, memory, network, block I/O and process counts of running
containers (all with -a; stopped ones read as zeros), or of those named,
refreshed every second (on a terminal the screen is redrawn; otherwise each
sample is printed after the last) until interrupted. --no-stream prints one
sample: CPU % needs two readings, taken a second apart, as docker does.

CPU % is the container's share of the host's CPU time (100% is one CPU);
MEM USAGE is the cgroup's memory less its inactive file cache, against the
cgroup's limit or the host's memory; NET I/O counts the interfaces of the
container's network namespace but loopback (0B with --network host);
BLOCK I/O the bytes read and written to block devices.

--format takes "table", "json" or a Go template over .Container .Name .ID
.CPUPerc .MemUsage .MemPerc .NetIO .BlockIO .PIDs.`,
		RunE: g.withEngine(func(cmd *cobra.Command, args []string, e *engine.Engine) error {
			ctx := cmd.Context()
			out := cmd.OutOrStdout()
			if len(args) > 0 {
				// Unknown names fail at once, as docker's do.
				for _, a := range args {
					if _, err := e.Stats(ctx, a); err != nil {
						return err
					}
				}
			}
			targets := func() ([]string, error) {
				if len(args) > 0 {
					return args, nil
				}
				cs, err := e.Containers(ctx, all, nil)
				if err != nil {
					return nil, err
				}
				ids := make([]string, len(cs))
				for i, c := range cs {
					ids[i] = c.ID
				}
				return ids, nil
			}
			tty := false
			if f, ok := out.(*os.File); ok {
				tty = term.IsTerminal(int(f.Fd()))
			}
			prev := map[string]engine.ContainerStats{}
			first := true
			for {
				words, err := targets()
				if err != nil {
					return err
				}
				cur := sample(ctx, e, words)
				if first {
					// CPU % is over an interval: take the second reading.
					first = false
					for k, v := range cur {
						prev[k] = v
					}
					if !sleepCtx(ctx, time.Second) {
						return nil
					}
					cur = sample(ctx, e, words)
				}
				var rows []any
				for _, w := range words {
					s, ok := cur[w]
					if !ok {
						continue // removed meanwhile
					}
					rows = append(rows, statsLine(w, prev[w], s, noTrunc))
				}
				prev = cur
				l := lister{format: format,
					table:   `{{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}`,
					headers: statsHeaders}
				var buf bytes.Buffer
				if err := l.print(&buf, rows); err != nil {
					return err
				}
				if tty && !noStream {
					io.WriteString(out, "\033[2J\033[H")
				}
				out.Write(buf.Bytes())
				if noStream || !sleepCtx(ctx, time.Second) {
					return nil
				}
			}
		}),
	}
	f := cmd.Flags()
	f.BoolVarP(&all, "all", "a", false, "show every container (stopped ones read as zeros)")
	f.BoolVar(&noStream, "no-stream", false, "print one sample and exit")
	f.BoolVar(&noTrunc, "no-trunc", false, "do not truncate IDs")
	f.StringVar(&format, "format", "", "format the output: table, json or a Go template")
	return cmd
}

// sample reads every container's statistics at once; a container that
// cannot be read (removed meanwhile) is left out.
func sample(ctx context.Context, e *engine.Engine, words []string) map[string]engine.ContainerStats {
	var mu sync.Mutex
	var wg sync.WaitGroup
	out := map[string]engine.ContainerStats{}
	for _, w := range words {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := e.Stats(ctx, w)
			if err != nil {
				return
			}
			mu.Lock()
			out[w] = s
			mu.Unlock()
		}()
	}
	wg.Wait()
	return out
}

// statsLine formats one container's sample as docker does: memory in
// binary units, I/O in decimal ones.
func statsLine(word string, prev, cur engine.ContainerStats, noTrunc bool) statsRow {
	id := cur.ID
	if !noTrunc && len(id) > 12 {
		id = id[:12]
	}
	if word == cur.ID {
		word = id
	}
	r := statsRow{Container: word, Name: cur.Name, ID: id}
	if !cur.Running {
		r.CPUPerc, r.MemUsage, r.MemPerc, r.NetIO, r.BlockIO, r.PIDs = "0.00%", "0B / 0B", "0.00%", "0B / 0B", "0B / 0B", "0"
		return r
	}
	r.CPUPerc = fmt.Sprintf("%.2f%%", engine.CPUPercent(prev, cur))
	r.MemUsage = binarySize(cur.MemUsage) + " / " + binarySize(cur.MemLimit)
	r.MemPerc = fmt.Sprintf("%.2f%%", cur.MemPercent())
	r.NetIO = humanSize(int64(cur.NetRx)) + " / " + humanSize(int64(cur.NetTx))
	r.BlockIO = humanSize(int64(cur.BlockRead)) + " / " + humanSize(int64(cur.BlockWrite))
	r.PIDs = strconv.FormatUint(cur.Pids, 10)
	return r
}

// binarySize is docker's units.BytesSize: 4 significant digits, KiB, MiB…
func binarySize(n uint64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	f := float64(n)
	i := 0
	for f >= 1024 && i < len(units)-1 {
		f /= 1024
		i++
	}
	return fmt.Sprintf("%.4g%s", f, units[i])
}

// sleepCtx waits d, or less if ctx ends (then it reports false).
func sleepCtx(ctx context.Context, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(d):
		return true
	}
}
