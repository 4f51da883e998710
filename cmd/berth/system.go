package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newSystemCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "system", Short: "Manage berth's storage"}
	info := newInfoCmd(g)
	cmd.AddCommand(newSystemDFCmd(g), info, newSystemPruneCmd(g))
	return cmd
}

// dfRow is one line of `berth system df`.
type dfRow struct {
	Type        string
	TotalCount  int
	Active      int
	Size        string
	Reclaimable string
}

func newSystemDFCmd(g *globals) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "df [OPTIONS]",
		Short: "Show disk usage",
		Long: `Show the disk space images, containers and volumes take. An image's size
counts its unpacked layers and the blobs they came from (kept for push
and save).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			e, err := g.open()
			if err != nil {
				return err
			}
			defer e.Close()
			du, err := e.DiskUsage(cmd.Context())
			if err != nil {
				return err
			}
			rows := []any{
				dfRow{"Images", du.Images.Total, du.Images.Active, humanSize(du.Images.Size), reclaim(du.Images.Reclaimable, du.Images.Size)},
				dfRow{"Containers", du.Containers.Total, du.Containers.Active, humanSize(du.Containers.Size), reclaim(du.Containers.Reclaimable, du.Containers.Size)},
				dfRow{"Local Volumes", du.Volumes.Total, du.Volumes.Active, humanSize(du.Volumes.Size), reclaim(du.Volumes.Reclaimable, du.Volumes.Size)},
			}
			l := lister{format: format,
				table: `{{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}`,
				headers: map[string]string{"Type": "TYPE", "TotalCount": "TOTAL", "Active": "ACTIVE",
					"Size": "SIZE", "Reclaimable": "RECLAIMABLE"}}
			return l.print(cmd.OutOrStdout(), rows)
		},
	}
	cmd.Flags().StringVar(&format, "format", "", "format the output: table, json or a Go template")
	return cmd
}

// reclaim prints reclaimable bytes with their share, as docker does.
func reclaim(n, of int64) string {
	if of == 0 {
		return humanSize(n)
	}
	return fmt.Sprintf("%s (%d%%)", humanSize(n), n*100/of)
}

func newImagePruneCmd(g *globals) *cobra.Command {
	var all, force bool
	cmd := &cobra.Command{
		Use:   "prune [OPTIONS]",
		Short: "Remove dangling images (with -a, every image) and unused layers",
		Long: `Remove dangling images — with -a, every image — and then every layer and blob
no image needs, and what interrupted pulls left behind. berth asks no
question: -f is accepted for docker compatibility.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			e, err := g.open()
			if err != nil {
				return err
			}
			defer e.Close()
			r, err := e.PruneImages(cmd.Context(), all)
			out := cmd.OutOrStdout()
			if len(r.Untagged)+len(r.Deleted) > 0 {
				fmt.Fprintln(out, "Deleted Images:")
			}
			for _, u := range r.Untagged {
				fmt.Fprintln(out, "untagged:", u)
			}
			for _, d := range r.Deleted {
				fmt.Fprintln(out, "deleted:", d)
			}
			fmt.Fprintf(out, "\nTotal reclaimed space: %s\n", humanSize(r.Reclaimed))
			return err
		},
	}
	cmd.Flags().BoolVarP(&all, "all", "a", false, "remove every image, not only dangling ones")
	cmd.Flags().BoolVarP(&force, "force", "f", false, "do not prompt (berth never prompts)")
	return cmd
}
