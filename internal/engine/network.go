package engine

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/linux/ns"
	"github.com/berth-project/berth/internal/network"
	"github.com/berth-project/berth/internal/store"
)

// Networks: the engine's side of internal/network.
//
// Records live in store.Networks, keyed by name (network.Network as JSON).
// The default network "berth" is recorded the first time a container (or
// `network ls`) needs it, with a free subnet: a /16 (network.Default) for
// the default root, a /24 of 10.160.0.0/11 for any other (rootDefault).
// Its bridge is berth0 for the default root and berth0-<8 hex digits of
// the root's path> for any other root, so that two roots on one host
// (tests, users with --root) never share a bridge: a root's reconcile
// removes every veth on its bridges that none of its containers owns (see
// netstage.go for the names the plugins see).
//
// A network's bridge exists while a container is attached to it: the
// bridge plugin makes it with the first attachment, and the engine removes
// it (network.Manager.RemoveNetwork) when the last one goes, as podman's
// netavark does, so that an idle host carries no bridge, route or
// isolation rule of Berth's.
//
// Runtime state, under the run root: cni/ (the Manager's: host-local
// leases, libcni's cache, its lock), containers/<id>/network.json (what
// the attachments of a running container gave it: netattach.go) and
// network.lock (netattach.go).

// EventNetwork is the type of network events (create, destroy, connect,
// disconnect), as docker's.
const EventNetwork = "network"

// CNIPathEnv names the environment variable that replaces the directories
// searched for the CNI plugins (network.DefaultPluginDirs), colon-separated.
const CNIPathEnv = "BERTH_CNI_PATH"

// networkManager opens the network stage over the run root. The plugins
// are looked for where network.DefaultPluginDirs says, then beside the
// berth-monitor the engine runs (a caller that is not bin/berth, such as
// a test, finds the build tree's bin/cni that way), or in $BERTH_CNI_PATH
// alone when it is set.
func (e *Engine) networkManager() (*network.Manager, error) {
	cfg := network.Config{StateDir: filepath.Join(e.cfg.RunRoot, "cni")}
	if p := os.Getenv(CNIPathEnv); p != "" {
		cfg.PluginDirs = filepath.SplitList(p)
	} else {
		cfg.PluginDirs = network.DefaultPluginDirs()
		if mon, err := findBinary("berth-monitor"); err == nil {
			if mon, err := filepath.EvalSymlinks(mon); err == nil {
				bin := filepath.Dir(mon)
				for _, d := range []string{filepath.Join(bin, "cni"), filepath.Join(filepath.Dir(bin), "libexec", "berth", "cni")} {
					if !slices.Contains(cfg.PluginDirs, d) {
						cfg.PluginDirs = append(cfg.PluginDirs, d)
					}
				}
			}
		}
	}
	return network.New(cfg)
}

// defaultBridge names the default network's bridge for this root.
func (e *Engine) defaultBridge() string {
	root := filepath.Clean(e.cfg.Root)
	if root == DefaultRoot {
		return network.DefaultBridge
	}
	sum := sha256.Sum256([]byte(root))
	return network.DefaultBridge + "-" + hex.EncodeToString(sum[:])[:8]
}

// isDefaultNetwork reports whether a --network value names the default
// network: docker's "bridge" and "default", or its own name.
func isDefaultNetwork(s string) bool {
	return s == "bridge" || s == "default" || s == network.DefaultName
}

// lookupNetwork finds the network the user's word s names: a name, a full
// ID or a unique ID prefix, as docker does; "bridge" and "default" name the
// default network.
func lookupNetwork(tx *store.Tx, s string) (network.Network, error) {
	if s == "" {
		return network.Network{}, fmt.Errorf("network name or ID: empty: %w", errdefs.ErrInvalidArgument)
	}
	name := s
	if isDefaultNetwork(s) {
		name = network.DefaultName
	}
	if n, err := store.Get[network.Network](tx, store.Networks, name); err == nil || !errdefs.IsNotFound(err) {
		return n, err
	}
	nets, err := store.List[network.Network](tx, store.Networks)
	if err != nil {
		return network.Network{}, err
	}
	var match []network.Network
	for _, n := range nets {
		if n.ID == s {
			return n, nil
		}
		if strings.HasPrefix(n.ID, s) {
			match = append(match, n)
		}
	}
	switch len(match) {
	case 0:
		return network.Network{}, fmt.Errorf("network %s not found: %w", s, errdefs.ErrNotFound)
	case 1:
		return match[0], nil
	}
	return network.Network{}, fmt.Errorf("network ID prefix %q is ambiguous (%d networks): %w", s, len(match), errdefs.ErrInvalidArgument)
}

// defaultNetwork returns the default network's record, recording it the
// first time.
func (e *Engine) defaultNetwork() (network.Network, error) {
	var n network.Network
	err := e.db.View(func(tx *store.Tx) (err error) {
		n, err = store.Get[network.Network](tx, store.Networks, network.DefaultName)
		return err
	})
	if !errdefs.IsNotFound(err) {
		return n, err
	}
	routes, err := network.HostRoutes()
	if err != nil {
		return n, err
	}
	err = e.db.Update(func(tx *store.Tx) error {
		var err error
		if n, err = store.Get[network.Network](tx, store.Networks, network.DefaultName); !errdefs.IsNotFound(err) {
			return err // made meanwhile
		}
		nets, err := store.List[network.Network](tx, store.Networks)
		if err != nil {
			return err
		}
		occ := network.Occupied{Networks: nets, Routes: routes}
		if filepath.Clean(e.cfg.Root) == DefaultRoot {
			n, err = network.Default(occ)
		} else {
			n, err = e.rootDefault(occ)
		}
		if err != nil {
			return err
		}
		n.Bridge = e.defaultBridge()
		return store.Create(tx, store.Networks, n.Name, n)
	})
	return n, e.networkEvent(err, n, "create")
}

// rootDefault makes the record of the default network of a root other
// than the default one: a /24 of 10.160.0.0/11 (10.160.0.0-10.191.255.0),
// tried from a place that depends on the root's path. Roots used at once
// (tests) then seldom pick one subnet, even though a bridge, which comes
// and goes with its containers, shows its subnet to the others (as a host
// route) only while it exists.
func (e *Engine) rootDefault(occ network.Occupied) (network.Network, error) {
	const count = 32 * 256
	sum := sha256.Sum256([]byte(filepath.Clean(e.cfg.Root)))
	start := int(binary.BigEndian.Uint16(sum[:2])) % count
	for i := range count {
		k := (start + i) % count
		subnet := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(160 + k/256), byte(k % 256), 0}), 24)
		n, err := network.Create(network.CreateOptions{Name: network.DefaultName, Subnet: subnet.String()}, occ)
		if errdefs.IsAlreadyExists(err) {
			continue // overlaps a network or a route
		}
		return n, err
	}
	return network.Network{}, fmt.Errorf("default network: every /24 of 10.160.0.0/11 overlaps a network or a host route: %w", errdefs.ErrUnavailable)
}

// NetworkCreate makes a user network (`network create`): a record only;
// its bridge appears with its first container.
func (e *Engine) NetworkCreate(ctx context.Context, o network.CreateOptions) (network.Network, error) {
	if e.rootlessNet() {
		return network.Network{}, rootlessNetworking("network create")
	}
	if o.Name == network.DefaultName {
		return network.Network{}, fmt.Errorf("network name %q is the default network's: %w", o.Name, errdefs.ErrAlreadyExists)
	}
	routes, err := network.HostRoutes()
	if err != nil {
		return network.Network{}, err
	}
	var n network.Network
	err = e.db.Update(func(tx *store.Tx) error {
		if _, err := store.Get[network.Network](tx, store.Networks, o.Name); err == nil {
			return fmt.Errorf("network with name %s already exists: %w", o.Name, errdefs.ErrAlreadyExists)
		}
		nets, err := store.List[network.Network](tx, store.Networks)
		if err != nil {
			return err
		}
		if n, err = network.Create(o, network.Occupied{Networks: nets, Routes: routes}); err != nil {
			return err
		}
		return store.Create(tx, store.Networks, n.Name, n)
	})
	return n, e.networkEvent(err, n, "create")
}

// Networks lists the networks that pass the filters ("name=x" (a
// substring), "id=prefix", "label=k[=v]", "driver=bridge", "type=custom"
// or "type=builtin"), by name. The default network is recorded first if it
// is not yet.
func (e *Engine) Networks(filters []string) ([]network.Network, error) {
	if !e.rootlessNet() {
		if _, err := e.defaultNetwork(); err != nil {
			return nil, err
		}
	}
	byKey := map[string][]string{}
	for _, f := range filters {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			return nil, fmt.Errorf("filter %q: want key=value: %w", f, errdefs.ErrInvalidArgument)
		}
		switch k {
		case "name", "id", "label", "driver", "type":
		default:
			return nil, fmt.Errorf("filter %q: unknown key %q (want name, id, label, driver or type): %w", f, k, errdefs.ErrInvalidArgument)
		}
		byKey[k] = append(byKey[k], v)
	}
	one := func(k, v string, n network.Network) bool {
		switch k {
		case "name":
			return strings.Contains(n.Name, v)
		case "id":
			return strings.HasPrefix(n.ID, v)
		case "label":
			lk, lv, hasValue := strings.Cut(v, "=")
			got, ok := n.Labels[lk]
			return ok && (!hasValue || got == lv)
		case "driver":
			return n.Driver == v
		case "type":
			return (v == "builtin") == (n.Name == network.DefaultName)
		}
		return false
	}
	var nets []network.Network
	if err := e.db.View(func(tx *store.Tx) (err error) {
		nets, err = store.List[network.Network](tx, store.Networks)
		return err
	}); err != nil {
		return nil, err
	}
	var out []network.Network
	for _, n := range nets {
		ok := true
		for k, vs := range byKey {
			match := func(v string) bool { return one(k, v, n) }
			if k == "label" {
				ok = ok && allHold(vs, match) // every label filter must hold, as docker's
			} else {
				ok = ok && slices.ContainsFunc(vs, match)
			}
		}
		if ok {
			out = append(out, n)
		}
	}
	return out, nil
}

// NetworkInspect is `network inspect`'s answer, in docker's field names.
type NetworkInspect struct {
	Name       string                      `json:"Name"`
	ID         string                      `json:"Id"`
	Created    string                      `json:"Created"`
	Scope      string                      `json:"Scope"`
	Driver     string                      `json:"Driver"`
	EnableIPv6 bool                        `json:"EnableIPv6"`
	IPAM       NetworkIPAM                 `json:"IPAM"`
	Internal   bool                        `json:"Internal"`
	Attachable bool                        `json:"Attachable"`
	Ingress    bool                        `json:"Ingress"`
	Containers map[string]NetworkContainer `json:"Containers"`
	Options    map[string]string           `json:"Options"`
	Labels     map[string]string           `json:"Labels"`
}

// NetworkIPAM is a network's address management, as docker shows it.
type NetworkIPAM struct {
	Driver  string             `json:"Driver"`
	Options map[string]string  `json:"Options"`
	Config  []NetworkIPAMRange `json:"Config"`
}

// NetworkIPAMRange is one subnet of a network.
type NetworkIPAMRange struct {
	Subnet  string `json:"Subnet"`
	Gateway string `json:"Gateway,omitempty"`
	IPRange string `json:"IPRange,omitempty"`
}

// NetworkContainer is one running container on a network.
type NetworkContainer struct {
	Name        string `json:"Name"`
	EndpointID  string `json:"EndpointID"`
	MacAddress  string `json:"MacAddress"`
	IPv4Address string `json:"IPv4Address"`
	IPv6Address string `json:"IPv6Address"`
}

// InspectNetwork describes the network the user's word s names, with the
// running containers attached to it.
func (e *Engine) InspectNetwork(ctx context.Context, s string) (NetworkInspect, error) {
	if isDefaultNetwork(s) && !e.rootlessNet() {
		if _, err := e.defaultNetwork(); err != nil {
			return NetworkInspect{}, err
		}
	}
	var n network.Network
	if err := e.db.View(func(tx *store.Tx) (err error) {
		n, err = lookupNetwork(tx, s)
		return err
	}); err != nil {
		return NetworkInspect{}, err
	}
	out := NetworkInspect{
		Name: n.Name, ID: n.ID, Created: n.Created.Format(time.RFC3339Nano), Scope: "local", Driver: n.Driver,
		IPAM:       NetworkIPAM{Driver: "default", Options: map[string]string{}, Config: []NetworkIPAMRange{{Subnet: n.Subnet.String(), Gateway: n.Gateway.String()}}},
		Internal:   n.Internal,
		Containers: map[string]NetworkContainer{},
		Options:    map[string]string{"com.docker.network.bridge.name": n.Bridge},
		Labels:     maps.Clone(n.Labels),
	}
	if n.IPRange.IsValid() {
		out.IPAM.Config[0].IPRange = n.IPRange.String()
	}
	if out.Labels == nil {
		out.Labels = map[string]string{}
	}
	attached, err := e.attachedContainers()
	if err != nil {
		return out, err
	}
	for _, ac := range attached {
		for _, a := range ac.st.Attachments {
			if a.Network.ID != n.ID || len(a.Result.IPs) == 0 {
				continue
			}
			out.Containers[ac.c.ID] = NetworkContainer{
				Name: ac.c.Name, EndpointID: endpointID(ac.c.ID, a.Result.Interface),
				MacAddress: a.Result.MAC, IPv4Address: a.Result.IPs[0].String(),
			}
		}
	}
	return out, nil
}

// endpointID names an attachment as docker's EndpointID does (Berth has
// no endpoint objects): a stable hash of container and interface.
func endpointID(containerID, ifName string) string {
	sum := sha256.Sum256([]byte(containerID + "/" + ifName))
	return hex.EncodeToString(sum[:])
}

// networkUsers maps each network name to the containers whose records name
// it (created, running or stopped).
func networkUsers(tx *store.Tx) (map[string][]Container, error) {
	cs, err := store.List[Container](tx, store.Containers)
	if err != nil {
		return nil, err
	}
	users := map[string][]Container{}
	for _, c := range cs {
		for _, ep := range c.Net.Networks {
			users[ep.Name] = append(users[ep.Name], c)
		}
	}
	return users, nil
}

// NetworkRemove removes the user network the user's word s names: refused
// (errdefs.ErrFailedPrecondition) while a container's record names it,
// whether the container runs or not; the default network is never
// removed. What crashed containers left on it goes first, then its bridge,
// then the record.
func (e *Engine) NetworkRemove(ctx context.Context, s string) (network.Network, error) {
	var n network.Network
	if err := e.db.View(func(tx *store.Tx) (err error) {
		if n, err = lookupNetwork(tx, s); err != nil {
			return err
		}
		return checkNetworkUnused(tx, n)
	}); err != nil {
		return n, err
	}
	if err := e.removeNetworkDevices(ctx, n); err != nil {
		return n, err
	}
	err := e.db.Update(func(tx *store.Tx) error {
		if err := checkNetworkUnused(tx, n); err != nil {
			return err // a create named it meanwhile: its start makes the bridge again
		}
		if err := store.Delete(tx, store.Networks, n.Name); err != nil && !errdefs.IsNotFound(err) {
			return err
		}
		return nil
	})
	return n, e.networkEvent(err, n, "destroy")
}

// checkNetworkUnused refuses to remove the default network or one that a
// container's record names.
func checkNetworkUnused(tx *store.Tx, n network.Network) error {
	if n.Name == network.DefaultName {
		return fmt.Errorf("%s is the default network and cannot be removed: %w", n.Name, errdefs.ErrInvalidArgument)
	}
	users, err := networkUsers(tx)
	if err != nil {
		return err
	}
	if cs := users[n.Name]; len(cs) > 0 {
		var names []string
		for _, c := range cs {
			names = append(names, c.Name)
		}
		return fmt.Errorf("network %s is in use by container %s: remove or disconnect it first: %w",
			n.Name, strings.Join(names, ", "), errdefs.ErrFailedPrecondition)
	}
	return nil
}

// removeNetworkDevices removes what n holds on the host once no container
// record names it: leftovers of crashed containers, then the bridge and its
// isolation rules.
func (e *Engine) removeNetworkDevices(ctx context.Context, n network.Network) error {
	s, err := e.netStage()
	if err != nil {
		return err
	}
	unlock, err := e.netLock(ctx, networkLockFile, true)
	if err != nil {
		return err
	}
	defer unlock()
	live, err := e.containerIDs()
	if err != nil {
		return err
	}
	if _, err := s.Reconcile(ctx, []network.Network{n}, live); err != nil {
		return fmt.Errorf("network %s: leftovers: %w", n.Name, err)
	}
	return s.RemoveNetwork(n)
}

// containerIDs is the set of every recorded container.
func (e *Engine) containerIDs() (map[string]bool, error) {
	var ids []string
	if err := e.db.View(func(tx *store.Tx) (err error) {
		ids, err = store.Keys(tx, store.Containers)
		return err
	}); err != nil {
		return nil, err
	}
	live := map[string]bool{}
	for _, id := range ids {
		live[id] = true
	}
	return live, nil
}

// NetworkPrune removes every user network no container names, and returns
// their names.
func (e *Engine) NetworkPrune(ctx context.Context) ([]string, error) {
	var unused []string
	if err := e.db.View(func(tx *store.Tx) error {
		nets, err := store.List[network.Network](tx, store.Networks)
		if err != nil {
			return err
		}
		users, err := networkUsers(tx)
		if err != nil {
			return err
		}
		for _, n := range nets {
			if n.Name != network.DefaultName && len(users[n.Name]) == 0 {
				unused = append(unused, n.Name)
			}
		}
		return nil
	}); err != nil {
		return nil, err
	}
	var removed []string
	var errs []error
	for _, name := range unused {
		_, err := e.NetworkRemove(ctx, name)
		switch {
		case err == nil:
			removed = append(removed, name)
		case !errdefs.IsFailedPrecondition(err) && !errdefs.IsNotFound(err):
			errs = append(errs, err) // one taken meanwhile is not an error
		}
	}
	return removed, errors.Join(errs...)
}

// networkEvent records action on n when err is nil, and returns err.
func (e *Engine) networkEvent(err error, n network.Network, action string, attrs ...string) error {
	if err != nil {
		return err
	}
	a := map[string]string{"name": n.Name, "type": n.Driver}
	for i := 0; i+1 < len(attrs); i += 2 {
		a[attrs[i]] = attrs[i+1]
	}
	e.record(Event{Type: EventNetwork, Action: action, Actor: EventActor{ID: n.ID, Attributes: a}})
	return nil
}

// rootlessNet reports whether bridge networks are out of reach: the engine
// runs as root of a user namespace (rootless), where it cannot make
// bridges, veths or iptables rules on the host.
func (e *Engine) rootlessNet() bool { return inUserNamespace() }

var inUserNamespace = sync.OnceValue(ns.InUserNamespace)

// rootlessNetworking is the error of a bridge network asked of a rootless
// engine (or of pasta, not built).
func rootlessNetworking(what string) error {
	return fmt.Errorf("%s: a rootless engine has no bridge networks (and pasta is not built): use --network slirp4netns, none or host: %w", what, errdefs.ErrNotImplemented)
}
