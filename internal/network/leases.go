package network

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// Lease is one host-local reservation: a file named for the address under
// <StateDir>/ipam/<network>/, holding "<container id>\r\n<ifname>".
type Lease struct {
	Network     string
	IP          netip.Addr
	ContainerID string
	IfName      string
}

// leaseDir is where host-local keeps the leases of a network.
func (m *Manager) leaseDir(network string) string {
	return filepath.Join(m.state, "ipam", network)
}

// Leases lists the reservations of a network (none when it never had one).
func (m *Manager) Leases(network string) ([]Lease, error) {
	dir := m.leaseDir(network)
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("network %q leases: %w", network, err)
	}
	var out []Lease
	for _, e := range ents {
		ip, err := netip.ParseAddr(e.Name())
		if err != nil || !e.Type().IsRegular() {
			continue // lock, last_reserved_ip.0
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			continue
		}
		id, ifname, _ := strings.Cut(string(b), "\r\n")
		out = append(out, Lease{Network: network, IP: ip, ContainerID: strings.TrimSpace(id), IfName: strings.TrimSpace(ifname)})
	}
	return out, nil
}

// releaseLeases removes leases under host-local's own lock on the
// network's lease directory.
func (m *Manager) releaseLeases(ls []Lease) error {
	var errs []error
	byNet := map[string][]Lease{}
	for _, l := range ls {
		byNet[l.Network] = append(byNet[l.Network], l)
	}
	for network, ls := range byNet {
		dir := m.leaseDir(network)
		unlock, err := flock(filepath.Join(dir, "lock"), unix.LOCK_EX)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, l := range ls {
			if err := os.Remove(filepath.Join(dir, l.IP.String())); err != nil && !errors.Is(err, os.ErrNotExist) {
				errs = append(errs, fmt.Errorf("release lease %s of %s: %w", l.IP, l.ContainerID, err))
			}
		}
		unlock()
	}
	return errors.Join(errs...)
}

// flock takes a flock on path (created), LOCK_SH or LOCK_EX; the returned
// function releases it.
func flock(path string, how int) (func(), error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	for {
		err = unix.Flock(int(f.Fd()), how)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return func() { f.Close() }, nil
}
