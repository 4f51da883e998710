// Package network is the network stage: it describes networks (Network,
// plain records the engine stores), renders their CNI configuration
// (ConfList), and attaches network namespaces to them through libcni with
// the reference plugins that `make build` puts in bin/cni (bridge,
// host-local, portmap, firewall; tuning and loopback for CRI). It also parses
// docker's -p flags, renders /etc/hosts for containers that resolve peers
// by name, and finds and removes what crashed containers left behind.
//
// A container on a user network, with a published port:
//
//	routes, _ := network.HostRoutes()
//	net, err := network.Create(network.CreateOptions{Name: "web"},
//		network.Occupied{Networks: existing, Routes: routes})  // 10.89.0.0/24, bridge berth-<id>
//	// … the engine stores net …
//
//	m, _ := network.New(network.Config{StateDir: "/run/berth/cni"})
//	spec, _ := network.ParsePublish("127.0.0.1:8080:80")
//	ports, err := network.Resolve([]network.PublishSpec{spec})     // fails now if 8080 is taken
//	res, err := m.Attach(ctx, net, id, "/run/berth/netns/"+id, "eth0",
//		network.Options{PortMappings: ports, Aliases: []string{"api"}})
//	// res.IPs[0] = 10.89.0.2/24, res.Gateway = 10.89.0.1, res.HostInterface = veth…
//	network.WriteHosts(hostsPath, network.RenderHosts(network.Hosts{
//		Self:  []network.HostEntry{{IP: res.IPs[0].Addr(), Names: []string{hostname, name, "api"}}},
//		Peers: peers, // the other containers on "web"
//	}))
//	// … the container runs; 127.0.0.1:8080 reaches its port 80 …
//	err = m.Detach(ctx, net, id, "/run/berth/netns/"+id, "eth0")  // at stop or cleanup
//
// and when berth starts, for whatever a kill -9 left:
//
//	removed, err := m.Reconcile(ctx, allNetworks, liveContainerIDs)
//
// # Host requirements and settings
//
// Root, iptables (the nft or legacy backend; iptables-save and
// iptables-restore on PATH) and a kernel with bridges and veths. The bridge
// plugin turns on net.ipv4.ip_forward (a host-wide setting that stays on)
// when it attaches a container as gateway, and the portmap plugin sets
// net.ipv4.conf.<bridge>.route_localnet=1 on the bridge so that
// 127.0.0.1:<hostport> can be DNATed into a container. The shared chains
// the plugins create once (CNI-HOSTPORT-DNAT/-SETMARK/-MASQ in nat,
// CNI-FORWARD, CNI-ADMIN and CNI-ISOLATION-STAGE-1/2 in filter, with their
// jumps from PREROUTING, OUTPUT, POSTROUTING and FORWARD) stay; every
// per-container rule goes with Detach.
//
// # State
//
// Config.StateDir (<runroot>/cni, tmpfs) keeps the host-local leases and
// libcni's result cache. They survive a crash of berth, so Detach and
// Reconcile can undo an attachment whose process died, and die with a
// reboot, which takes the bridges, veths and rules with it.
package network
