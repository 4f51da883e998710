package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"
)

// imageRow is one image as `berth images` formats it: docker's fields.
type imageRow struct {
	Repository   string
	Tag          string
	Digest       string
	ID           string
	CreatedSince string
	CreatedAt    string
	Size         string
	Containers   string
	// Docker's too: berth does not split a size into shared and unique.
	SharedSize  string
	UniqueSize  string
	VirtualSize string
}

func newImagesCmd(g *globals) *cobra.Command {
	var (
		quiet, digests, noTrunc, all bool
		format                       string
		filters                      []string
	)
	cmd := &cobra.Command{
		Use:   "images [OPTIONS] [REPOSITORY[:TAG]]",
		Short: "List images",
		Long: `List images, newest first. Filters: dangling=true|false, reference=PATTERN,
label=KEY[=VALUE], before=IMAGE, since=IMAGE. --format takes "table", "json"
or a Go template over .Repository .Tag .Digest .ID .CreatedSince .CreatedAt
.Size .Containers (and docker's .VirtualSize .SharedSize .UniqueSize).`,
		Example: `  berth images
  berth images -q --filter dangling=true
  berth images --format '{{.Repository}}:{{.Tag}} {{.Size}}'`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			e, err := g.open()
			if err != nil {
				return err
			}
			defer e.Close()
			if len(args) == 1 {
				filters = append(filters, "reference="+args[0])
			}
			imgs, err := e.Images(cmd.Context(), filters)
			if err != nil {
				return err
			}
			var rows []any
			seen := map[string]bool{}
			for _, s := range imgs {
				id := s.Config.String()
				if !noTrunc {
					id = s.Config.Encoded()[:12]
				}
				if quiet {
					if !seen[id] {
						fmt.Fprintln(cmd.OutOrStdout(), id)
					}
					seen[id] = true
					continue
				}
				r := imageRow{
					Repository: s.Repository, Tag: s.Tag, Digest: s.Digest, ID: id,
					Size: humanSize(s.Size), Containers: "N/A",
					SharedSize: "N/A", UniqueSize: "N/A", VirtualSize: humanSize(s.Size),
				}
				if !s.Created.IsZero() {
					r.CreatedSince = humanDuration(time.Since(s.Created)) + " ago"
					r.CreatedAt = s.Created.Local().Format("2006-01-02 15:04:05 -0700 MST")
				}
				rows = append(rows, r)
			}
			if quiet {
				return nil
			}
			l := lister{format: format, table: tableImages(digests), headers: map[string]string{
				"Repository": "REPOSITORY", "Tag": "TAG", "Digest": "DIGEST", "ID": "IMAGE ID",
				"CreatedSince": "CREATED", "CreatedAt": "CREATED AT", "Size": "SIZE", "Containers": "CONTAINERS",
			}}
			return l.print(cmd.OutOrStdout(), rows)
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&quiet, "quiet", "q", false, "print only image IDs")
	f.BoolVar(&digests, "digests", false, "show digests")
	f.BoolVar(&noTrunc, "no-trunc", false, "do not truncate IDs")
	f.BoolVarP(&all, "all", "a", false, "show all images (berth keeps no intermediate images: same as without)")
	f.StringVar(&format, "format", "", "format the output: table, json or a Go template")
	f.StringArrayVarP(&filters, "filter", "f", nil, "filter the output (dangling, reference, label, before, since)")
	return cmd
}

func tableImages(digests bool) string {
	if digests {
		return `{{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}`
	}
	return `{{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}`
}
