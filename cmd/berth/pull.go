package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/engine"
	"github.com/berth-project/berth/internal/reference"
)

func newPullCmd(g *globals) *cobra.Command {
	var (
		platform string
		quiet    bool
		allTags  bool
	)
	cmd := &cobra.Command{
		Use:   "pull [OPTIONS] NAME[:TAG|@DIGEST]",
		Short: "Download an image from a registry",
		Long: `Download an image from a registry, verify every blob against its digest,
and unpack its layers. Layers already present are reused; an interrupted pull
resumes where it stopped. localhost and 127.0.0.1 registries are reached over
plain http, as docker does; others as /etc/berth/registries.toml says.`,
		Example: `  berth pull busybox
  berth pull --platform linux/arm64 127.0.0.1:5000/app:1
  berth pull -a 127.0.0.1:5000/app`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			e, err := g.open()
			if err != nil {
				return err
			}
			defer e.Close()
			ref, err := reference.Parse(args[0])
			if err != nil {
				return err
			}
			names := []string{args[0]}
			if allTags {
				if ref.Tag != "" && ref.Tag != reference.DefaultTag || ref.IsDigested() {
					return fmt.Errorf("tag can't be used with --all-tags/-a")
				}
				tags, err := e.ListTags(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				names = names[:0]
				for _, t := range tags {
					names = append(names, ref.Repository()+":"+t)
				}
			}
			out := cmd.OutOrStdout()
			for _, name := range names {
				r, err := pullOne(cmd, e, name, platform, quiet)
				if err != nil {
					return err
				}
				if quiet {
					fmt.Fprintln(out, r.Ref.String())
				}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&platform, "platform", "", "pull for this platform (os/arch[/variant]) instead of the host's")
	f.BoolVarP(&quiet, "quiet", "q", false, "print only the image's name")
	f.BoolVarP(&allTags, "all-tags", "a", false, "pull every tagged image of the repository")
	return cmd
}

// pullOne pulls name with docker's progress display on stdout.
func pullOne(cmd *cobra.Command, e *engine.Engine, name, platform string, quiet bool) (engine.PullResult, error) {
	ref, _ := reference.Parse(name)
	d := newPullDisplay(cmd.OutOrStdout(), quiet)
	tag := ref.Tag
	if ref.IsDigested() {
		tag = ref.Digest.String()
	}
	d.Printf("%s: Pulling from %s", tag, familiarRepo(ref))
	r, err := e.Pull(cmd.Context(), name, engine.PullOptions{Platform: platform, Progress: d.event})
	d.Close()
	if err != nil {
		return r, err
	}
	if !quiet {
		out := cmd.OutOrStdout()
		fmt.Fprintf(out, "Digest: %s\n", repoDigest(r))
		if r.Updated {
			fmt.Fprintf(out, "Status: Downloaded newer image for %s\n", r.Ref.Familiar())
		} else {
			fmt.Fprintf(out, "Status: Image is up to date for %s\n", r.Ref.Familiar())
		}
		fmt.Fprintln(out, r.Ref.String())
	}
	return r, nil
}

// familiarRepo is the repository as docker prints it in "Pulling from".
func familiarRepo(ref reference.Reference) string {
	if ref.Domain == "docker.io" {
		return ref.Path
	}
	return ref.Domain + "/" + ref.Path
}

// repoDigest is the digest a pull resolved: the index's, if it went through one.
func repoDigest(r engine.PullResult) string {
	if d := r.Image.Labels[engine.LabelIndexDigest]; d != "" {
		return d
	}
	return r.Image.Manifest.String()
}
