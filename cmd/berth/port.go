package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/engine"
)

func newPortCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "port CONTAINER [PRIVATE_PORT[/PROTO]]",
		Short: "List a container's published ports",
		Long: `List the port mappings of a container ("80/tcp -> 0.0.0.0:8080"), or the
host addresses of one private port. Host ports are chosen at each start (-P,
-p without a host port): a container that does not run has none, and
prints nothing. Asking for a private port that is not published fails as
docker fails: "no public port ... published".`,
		Args: cobra.RangeArgs(1, 2),
		RunE: g.withEngine(func(cmd *cobra.Command, args []string, e *engine.Engine) error {
			var want string
			if len(args) == 2 {
				port, proto, _ := strings.Cut(args[1], "/")
				if proto == "" {
					proto = "tcp"
				}
				if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
					return usageError("port %q: want PRIVATE_PORT[/PROTO], a port from 1 to 65535", args[1])
				}
				if proto != "tcp" && proto != "udp" && proto != "sctp" {
					return usageError("port %q: protocol %q: want tcp, udp or sctp", args[1], proto)
				}
				want = port + "/" + proto
			}
			ports, err := e.Ports(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			found := false
			for _, p := range ports {
				private := strconv.Itoa(int(p.PrivatePort)) + "/" + p.Protocol
				switch {
				case want == "":
					fmt.Fprintf(cmd.OutOrStdout(), "%s -> %s\n", private, p.HostAddr())
				case want == private:
					fmt.Fprintln(cmd.OutOrStdout(), p.HostAddr())
					found = true
				}
			}
			if want != "" && !found {
				return fmt.Errorf("no public port '%s' published for %s", want, args[0])
			}
			return nil
		}),
	}
	return cmd
}
