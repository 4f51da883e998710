package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/engine"
)

func newSystemPruneCmd(g *globals) *cobra.Command {
	var (
		o     engine.SystemPruneOptions
		force bool
	)
	cmd := &cobra.Command{
		Use:   "prune [OPTIONS]",
		Short: "Remove stopped containers, unused images and leftovers",
		Long: `Remove every stopped container, user networks no container uses, dangling
images (with -a every image no container uses), with --volumes the anonymous
volumes no container uses, what interrupted creates and removals left
without a container record (a network namespace file, a container directory,
a ctr-<id> snapshot, an OCI runtime's state), and what crashed containers
left on the networks (IP leases, veths, iptables chains and rules, bridges
no container uses); a container being created is left alone. Running
containers and what they use are never touched. berth asks no question: -f
is accepted for docker compatibility.`,
		Args: cobra.NoArgs,
		RunE: g.withEngine(func(cmd *cobra.Command, args []string, e *engine.Engine) error {
			r, err := e.SystemPrune(cmd.Context(), o)
			out := cmd.OutOrStdout()
			section := func(title string, lines []string) {
				if len(lines) == 0 {
					return
				}
				fmt.Fprintln(out, title)
				for _, l := range lines {
					fmt.Fprintln(out, l)
				}
				fmt.Fprintln(out)
			}
			section("Deleted Containers:", r.Containers)
			section("Deleted Networks:", r.Networks)
			section("Deleted Volumes:", r.Volumes)
			var imgs []string
			for _, u := range r.Images.Untagged {
				imgs = append(imgs, "untagged: "+u)
			}
			for _, d := range r.Images.Deleted {
				imgs = append(imgs, "deleted: "+d.String())
			}
			section("Deleted Images:", imgs)
			section("Deleted Leftovers:", r.Leftovers)
			fmt.Fprintf(out, "Total reclaimed space: %s\n", humanSize(r.Reclaimed))
			return err
		}),
	}
	f := cmd.Flags()
	f.BoolVarP(&o.All, "all", "a", false, "remove every unused image, not only dangling ones")
	f.BoolVar(&o.Volumes, "volumes", false, "remove unused anonymous volumes too")
	f.BoolVarP(&force, "force", "f", false, "do not prompt (berth never prompts)")
	return cmd
}
