package cgroups

import (
	"fmt"
	"strings"

	"github.com/opencontainers/cgroups/devices/config"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-project/berth/internal/errdefs"
)

// defaultDeviceRules are appended after the spec's rules, as runc 1.1.5 does
// (libcontainer/specconv.AllowedDevices): every container may mknod any device
// and use the standard character devices and ptys.
var defaultDeviceRules = []config.Rule{
	{Type: config.CharDevice, Major: config.Wildcard, Minor: config.Wildcard, Permissions: "m", Allow: true},
	{Type: config.BlockDevice, Major: config.Wildcard, Minor: config.Wildcard, Permissions: "m", Allow: true},
	{Type: config.CharDevice, Major: 1, Minor: 3, Permissions: "rwm", Allow: true},                 // /dev/null
	{Type: config.CharDevice, Major: 1, Minor: 8, Permissions: "rwm", Allow: true},                 // /dev/random
	{Type: config.CharDevice, Major: 1, Minor: 7, Permissions: "rwm", Allow: true},                 // /dev/full
	{Type: config.CharDevice, Major: 5, Minor: 0, Permissions: "rwm", Allow: true},                 // /dev/tty
	{Type: config.CharDevice, Major: 1, Minor: 5, Permissions: "rwm", Allow: true},                 // /dev/zero
	{Type: config.CharDevice, Major: 1, Minor: 9, Permissions: "rwm", Allow: true},                 // /dev/urandom
	{Type: config.CharDevice, Major: 136, Minor: config.Wildcard, Permissions: "rwm", Allow: true}, // /dev/pts/*
	{Type: config.CharDevice, Major: 5, Minor: 2, Permissions: "rwm", Allow: true},                 // /dev/ptmx
	{Type: config.CharDevice, Major: 10, Minor: 200, Permissions: "rwm", Allow: true},              // /dev/net/tun
}

// deviceRules converts the OCI device cgroup entries into the library's
// rules, followed by the default rules. A missing type means all devices ("a"),
// a missing major or minor means any (*).
func deviceRules(in []specs.LinuxDeviceCgroup) ([]*config.Rule, error) {
	out := make([]*config.Rule, 0, len(in)+len(defaultDeviceRules))
	for i, d := range in {
		t, err := deviceType(d.Type)
		if err != nil {
			return nil, fmt.Errorf("linux.resources.devices[%d]: %w", i, err)
		}
		if d.Access == "" {
			return nil, fmt.Errorf("linux.resources.devices[%d]: access cannot be empty: %w", i, errdefs.ErrInvalidArgument)
		}
		if strings.Trim(d.Access, "rwm") != "" {
			return nil, fmt.Errorf("linux.resources.devices[%d]: invalid access %q (want letters of \"rwm\"): %w", i, d.Access, errdefs.ErrInvalidArgument)
		}
		r := &config.Rule{Type: t, Major: config.Wildcard, Minor: config.Wildcard, Permissions: config.Permissions(d.Access), Allow: d.Allow}
		if d.Major != nil {
			r.Major = *d.Major
		}
		if d.Minor != nil {
			r.Minor = *d.Minor
		}
		out = append(out, r)
	}
	for _, r := range defaultDeviceRules {
		out = append(out, &r)
	}
	return out, nil
}

func deviceType(s string) (config.Type, error) {
	switch s {
	case "", "a":
		return config.WildcardDevice, nil
	case "b":
		return config.BlockDevice, nil
	case "c":
		return config.CharDevice, nil
	}
	return 0, fmt.Errorf("invalid cgroup device type %q (want \"a\", \"b\" or \"c\"): %w", s, errdefs.ErrInvalidArgument)
}
