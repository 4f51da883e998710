package engine

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"

	"github.com/berth-project/berth/internal/network"
)

// --network slirp4netns (the default of a rootless engine, as Podman 4's):
// the container's own network namespace, made by the engine as for the
// bridge, is given user-mode networking by a slirp4netns process that the
// engine starts at each start, in a session of its own, once the
// namespace exists and before the monitor runs (attachSlirp), and ends
// when the container is done — in the monitor's exit command or rm, as
// the bridge's attachments are detached (detachSlirp). Its pid, API socket
// and the ports it publishes are in network.json (netState.Slirp), which
// exists exactly while it runs; published ports are its own listening
// sockets on the host (add_hostfwd), chosen and checked against the other
// containers' as the bridge's are. A restart by the monitor keeps it: the
// namespace and the process outlive the container's process.
const modeSlirp = "slirp4netns"

// slirpAttachment is a container's slirp4netns in network.json.
type slirpAttachment struct {
	network.Slirp
	Result network.Result `json:"result"`
}

// slirpSocket is the API socket of c's slirp4netns, in its run directory.
func (e *Engine) slirpSocket(id string) string {
	return filepath.Join(e.runDir(id), "slirp4netns.sock")
}

// attachSlirp starts c's slirp4netns, publishes its ports and writes
// network.json, or fails with nothing left.
func (e *Engine) attachSlirp(ctx context.Context, c Container) (err error) {
	unlock, err := e.netLocks(ctx, c.publishes())
	if err != nil {
		return err
	}
	defer unlock()
	ports, err := e.resolvePorts(c)
	if err != nil {
		return fmt.Errorf("container %s: %w", c.Name, err)
	}
	s, err := network.StartSlirp(ctx, network.SlirpConfig{
		NetNS: c.NetNS, APISocket: e.slirpSocket(c.ID), Log: filepath.Join(e.runDir(c.ID), "slirp4netns.log"),
	})
	if err != nil {
		return fmt.Errorf("container %s: %w", c.Name, err)
	}
	defer func() {
		if err != nil {
			network.StopSlirp(s.Pid, s.NetNS)
			os.Remove(s.APISocket)
			os.Remove(e.netStatePath(c.ID))
		}
	}()
	for _, m := range ports {
		if err := network.SlirpHostFwd(s.APISocket, m); err != nil {
			return fmt.Errorf("container %s: %w", c.Name, err)
		}
	}
	res := network.Result{
		Network: modeSlirp, Interface: network.SlirpInterface,
		IPs: []netip.Prefix{network.SlirpIP}, Gateway: network.SlirpGateway, PortMappings: ports,
	}
	return e.writeNetState(c.ID, netState{Slirp: &slirpAttachment{Slirp: s, Result: res}})
}

// detachSlirp ends the slirp4netns that st names; network.json goes after.
func (e *Engine) detachSlirp(st netState) error {
	if st.Slirp == nil {
		return nil
	}
	if err := network.StopSlirp(st.Slirp.Pid, st.Slirp.NetNS); err != nil {
		return err
	}
	if err := os.Remove(st.Slirp.APISocket); err != nil && !os.IsNotExist(err) {
		return err
	}
	return nil
}
