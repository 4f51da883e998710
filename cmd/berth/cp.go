package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/berth-project/berth/internal/engine"
)

func newCpCmd(g *globals) *cobra.Command {
	var (
		o     engine.CopyOptions
		quiet bool
	)
	cmd := &cobra.Command{
		Use:   "cp [OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n  berth cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH",
		Short: "Copy files between a container and the host",
		Long: `Copy files and directories between a container (running or not) and the host,
by docker's rules: a destination that is an existing directory receives the
source inside it, any other destination names the copy; "SRC/." copies the
contents of a directory; "-" is a tar stream on stdin (into the container:
the destination must be a directory) or stdout (out of the container).

Paths in the container are resolved inside it: a symlink there (etc -> /etc,
x -> ../../..) leads to the container's own files, never to the host's.
A copy sees the container's volumes and bind mounts as the container does
(read-only ones stay read-only, as does a --read-only root filesystem);
its tmpfs mounts are not seen. The copy works on a private, detached view
of the container's file system: nothing is mounted on the host, and the
container is locked meanwhile (start, stop's cleanup and rm wait).

Without -a, what is copied into a container belongs to the container's
user (root unless --user said otherwise); -a keeps the owners of the source.`,
		Args: cobra.ExactArgs(2),
		RunE: g.withEngine(func(cmd *cobra.Command, args []string, e *engine.Engine) error {
			srcCtr, src := splitCpArg(args[0])
			dstCtr, dst := splitCpArg(args[1])
			switch {
			case src == "":
				return usageError("source can not be empty")
			case dst == "":
				return usageError("destination can not be empty")
			case srcCtr != "" && dstCtr != "":
				return usageError("copying between containers is not supported")
			case srcCtr == "" && dstCtr == "":
				return usageError("must specify at least one container source")
			}
			ctx := cmd.Context()
			var n int64
			var err error
			switch {
			case srcCtr != "" && dst == "-":
				n, err = e.CopyFrom(ctx, srcCtr, src, o, os.Stdout)
			case srcCtr != "":
				n, err = e.CopyOut(ctx, srcCtr, src, dst, o)
			case src == "-":
				n, err = e.CopyTarIn(ctx, dstCtr, dst, os.Stdin, o)
			default:
				n, err = e.CopyIn(ctx, dstCtr, src, dst, o)
			}
			if err != nil {
				return err
			}
			if !quiet && dst != "-" && term.IsTerminal(int(os.Stderr.Fd())) {
				fmt.Fprintf(os.Stderr, "Successfully copied %s to %s\n", humanSize(n), args[1])
			}
			return nil
		}),
	}
	f := cmd.Flags()
	f.BoolVarP(&o.Archive, "archive", "a", false, "keep the owners (uid:gid) of the source")
	f.BoolVarP(&o.FollowLink, "follow-link", "L", false, "copy what a symlink source points to")
	f.BoolVarP(&quiet, "quiet", "q", false, "print no progress (none is printed without a terminal)")
	return cmd
}

// splitCpArg splits "CONTAINER:PATH" as docker does: an absolute path, a
// path starting with "." or one without ":" is the host's.
func splitCpArg(arg string) (ctr, path string) {
	if strings.HasPrefix(arg, "/") {
		return "", arg
	}
	ctr, path, ok := strings.Cut(arg, ":")
	if !ok || strings.HasPrefix(ctr, ".") {
		return "", arg
	}
	return ctr, path
}
