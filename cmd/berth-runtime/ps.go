package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/errdefs"
)

func newPsCmd(g *globals) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "ps [flags] <container-id> [ps options]",
		Short: "List the processes of a container",
		Long: `ps runs the host's ps(1) with the given options (default -ef) and keeps the
lines of the container's processes; --format json prints their pids only.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pids, err := g.runtime().Pids(args[0])
			if err != nil {
				return err
			}
			switch format {
			case "json":
				if pids == nil {
					pids = []int{}
				}
				return printJSON(pids)
			case "table":
			default:
				return fmt.Errorf("--format %q: want table or json: %w", format, errdefs.ErrInvalidArgument)
			}
			psArgs := args[1:]
			if len(psArgs) == 0 {
				psArgs = []string{"-ef"}
			}
			out, err := exec.Command("ps", psArgs...).Output()
			if err != nil {
				return fmt.Errorf("ps %s: %w", strings.Join(psArgs, " "), err)
			}
			lines := strings.Split(string(bytes.TrimRight(out, "\n")), "\n")
			col := -1
			for i, h := range strings.Fields(lines[0]) {
				if h == "PID" {
					col = i
				}
			}
			if col < 0 {
				return fmt.Errorf("ps %s: no PID column: %w", strings.Join(psArgs, " "), errdefs.ErrInvalidArgument)
			}
			in := map[int]bool{}
			for _, p := range pids {
				in[p] = true
			}
			fmt.Fprintln(os.Stdout, lines[0])
			for _, l := range lines[1:] {
				f := strings.Fields(l)
				if len(f) <= col {
					continue
				}
				if p, err := strconv.Atoi(f[col]); err == nil && in[p] {
					fmt.Fprintln(os.Stdout, l)
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&format, "format", "f", "table", "output format: table or json")
	cmd.Flags().SetInterspersed(false)
	return cmd
}
