package main

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/engine"
	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/network"
)

func newNetworkCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "network",
		Short: "Manage networks",
		Long: `Manage networks: Linux bridges with a private subnet, NAT to the outside and
published ports, made through CNI plugins (bin/cni beside berth, or
<prefix>/libexec/berth/cni; BERTH_CNI_PATH replaces the search path).

Containers join the default network "berth" (docker's "bridge": bridge berth0
for the default --root) unless --network names another. On a user network
(network create) containers find each other by name and --network-alias: the
engine keeps every container's /etc/hosts up to date with its peers; the
default network gives no names, as docker's. Networks are isolated from each
other. A network's bridge exists while containers are attached to it.
State lives in --runroot/cni; berth turns on net.ipv4.ip_forward on the host.`,
	}
	cmd.AddCommand(newNetworkCreateCmd(g), newNetworkLsCmd(g), newNetworkInspectCmd(g), newNetworkRmCmd(g),
		newNetworkConnectCmd(g), newNetworkDisconnectCmd(g), newNetworkPruneCmd(g))
	return cmd
}

func newNetworkCreateCmd(g *globals) *cobra.Command {
	var (
		o      network.CreateOptions
		labels []string
	)
	cmd := &cobra.Command{
		Use:   "create [OPTIONS] NETWORK",
		Short: "Create a network",
		Long: `Create a user network and print its ID. Without --subnet a free /24 from
10.89.0.0/24 upwards is taken; a subnet that overlaps another network or a
route of the host is refused. The gateway defaults to the subnet's first
address; --ip-range narrows where containers' addresses come from.`,
		Example: `  berth network create web
  berth network create --subnet 10.251.3.0/24 --ip-range 10.251.3.128/25 --label env=test web`,
		Args: cobra.ExactArgs(1),
		RunE: g.withEngine(func(cmd *cobra.Command, args []string, e *engine.Engine) error {
			l, err := keyValues("--label", labels)
			if err != nil {
				return err
			}
			o.Name, o.Labels = args[0], l
			n, err := e.NetworkCreate(cmd.Context(), o)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), n.ID)
			return nil
		}),
	}
	f := cmd.Flags()
	f.StringVarP(&o.Driver, "driver", "d", "bridge", "network driver (only bridge)")
	f.StringVar(&o.Subnet, "subnet", "", "subnet in CIDR form (default: a free /24)")
	f.StringVar(&o.Gateway, "gateway", "", "gateway address inside the subnet (default: its first address)")
	f.StringVar(&o.IPRange, "ip-range", "", "hand out container addresses from this CIDR inside the subnet")
	f.BoolVar(&o.Internal, "internal", false, "no outside access: no NAT, no default route")
	f.StringArrayVar(&labels, "label", nil, "set a label KEY=VALUE")
	return cmd
}

// networkRow is one network as `network ls` formats it: docker's fields.
type networkRow struct{ ID, Name, Driver, Scope, Subnet, Gateway, Internal, Labels, CreatedAt string }

func newNetworkLsCmd(g *globals) *cobra.Command {
	var (
		quiet, noTrunc bool
		format         string
		filters        []string
	)
	cmd := &cobra.Command{
		Use:     "ls [OPTIONS]",
		Aliases: []string{"list"},
		Short:   "List networks",
		Long: `List networks by name. Filters: name=SUBSTRING, id=PREFIX, label=KEY[=VALUE],
driver=bridge, type=custom|builtin. --format takes "table", "json" or a Go
template over .ID .Name .Driver .Scope .Subnet .Gateway .Internal .Labels
.CreatedAt.`,
		Args: cobra.NoArgs,
		RunE: g.withEngine(func(cmd *cobra.Command, args []string, e *engine.Engine) error {
			nets, err := e.Networks(filters)
			if err != nil {
				return err
			}
			var rows []any
			for _, n := range nets {
				id := n.ID
				if !noTrunc {
					id = n.ShortID()
				}
				if quiet {
					fmt.Fprintln(cmd.OutOrStdout(), id)
					continue
				}
				rows = append(rows, networkRow{ID: id, Name: n.Name, Driver: n.Driver, Scope: "local",
					Subnet: n.Subnet.String(), Gateway: n.Gateway.String(), Internal: fmt.Sprint(n.Internal),
					Labels: joinLabels(n.Labels), CreatedAt: n.Created.Local().Format("2006-01-02 15:04:05 -0700 MST")})
			}
			if quiet {
				return nil
			}
			l := lister{format: format, table: `{{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}`,
				headers: map[string]string{"ID": "NETWORK ID", "Name": "NAME", "Driver": "DRIVER", "Scope": "SCOPE",
					"Subnet": "SUBNET", "Gateway": "GATEWAY", "Internal": "INTERNAL", "Labels": "LABELS", "CreatedAt": "CREATED AT"}}
			return l.print(cmd.OutOrStdout(), rows)
		}),
	}
	f := cmd.Flags()
	f.BoolVarP(&quiet, "quiet", "q", false, "print only IDs")
	f.BoolVar(&noTrunc, "no-trunc", false, "do not truncate IDs")
	f.StringVar(&format, "format", "", "format the output: table, json or a Go template")
	f.StringArrayVarP(&filters, "filter", "f", nil, "filter the output")
	return cmd
}

func newNetworkInspectCmd(g *globals) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "inspect [OPTIONS] NETWORK [NETWORK...]",
		Short: "Show networks' details as JSON (docker's fields, with the running containers)",
		Args:  cobra.MinimumNArgs(1),
		RunE: g.withEngine(func(cmd *cobra.Command, args []string, e *engine.Engine) error {
			return inspectEach(cmd, args, format, func(s string) (any, error) { return e.InspectNetwork(cmd.Context(), s) })
		}),
	}
	cmd.Flags().StringVarP(&format, "format", "f", "", "format the output with a Go template")
	return cmd
}

func newNetworkRmCmd(g *globals) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:     "rm [OPTIONS] NETWORK [NETWORK...]",
		Aliases: []string{"remove"},
		Short:   "Remove networks no container uses",
		Long: `Remove user networks, with their bridges. A network that a container names
(running or not) is refused: remove the container or disconnect it first. The
default network "berth" is never removed.`,
		Args: cobra.MinimumNArgs(1),
		RunE: g.withEngine(func(cmd *cobra.Command, args []string, e *engine.Engine) error {
			var errs []error
			for _, a := range args {
				if _, err := e.NetworkRemove(cmd.Context(), a); err != nil {
					if !(force && errdefs.IsNotFound(err)) {
						errs = append(errs, err)
					}
					continue
				}
				fmt.Fprintln(cmd.OutOrStdout(), a)
			}
			return errors.Join(errs...)
		}),
	}
	cmd.Flags().BoolVarP(&force, "force", "f", false, "no error for networks that do not exist")
	return cmd
}

func newNetworkConnectCmd(g *globals) *cobra.Command {
	var o engine.ConnectOptions
	cmd := &cobra.Command{
		Use:   "connect [OPTIONS] NETWORK CONTAINER",
		Short: "Connect a container to a network",
		Long: `Connect a container to one more network. A running container gets its next
interface (eth1, …) at once; a stopped one joins the network at its next
start. Containers with --network none, host or container:NAME cannot join.`,
		Args: cobra.ExactArgs(2),
		RunE: g.withEngine(func(cmd *cobra.Command, args []string, e *engine.Engine) error {
			return e.NetworkConnect(cmd.Context(), args[0], args[1], o)
		}),
	}
	cmd.Flags().StringArrayVar(&o.Aliases, "alias", nil, "another name of the container on this network")
	cmd.Flags().StringVar(&o.IP, "ip", "", "a static IPv4 address on this network")
	return cmd
}

func newNetworkDisconnectCmd(g *globals) *cobra.Command {
	var o engine.DisconnectOptions
	cmd := &cobra.Command{
		Use:   "disconnect [OPTIONS] NETWORK CONTAINER",
		Short: "Disconnect a container from a network",
		Args:  cobra.ExactArgs(2),
		RunE: g.withEngine(func(cmd *cobra.Command, args []string, e *engine.Engine) error {
			return e.NetworkDisconnect(cmd.Context(), args[0], args[1], o)
		}),
	}
	cmd.Flags().BoolVarP(&o.Force, "force", "f", false, "no error when the container is not connected")
	return cmd
}

func newNetworkPruneCmd(g *globals) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "prune [OPTIONS]",
		Short: "Remove every user network no container uses",
		Args:  cobra.NoArgs,
		RunE: g.withEngine(func(cmd *cobra.Command, args []string, e *engine.Engine) error {
			removed, err := e.NetworkPrune(cmd.Context())
			if len(removed) > 0 {
				fmt.Fprintln(cmd.OutOrStdout(), "Deleted Networks:")
				for _, n := range removed {
					fmt.Fprintln(cmd.OutOrStdout(), n)
				}
			}
			return err
		}),
	}
	cmd.Flags().BoolVarP(&force, "force", "f", false, "do not prompt (berth never prompts)")
	return cmd
}

// joinLabels is labels as KEY=VALUE,…, sorted.
func joinLabels(labels map[string]string) string {
	var kv []string
	for k, v := range labels {
		kv = append(kv, k+"="+v)
	}
	sort.Strings(kv)
	return strings.Join(kv, ",")
}
