//go:build tools

// Package plugins pins the CNI reference plugins that Berth builds and ships
// (bridge, host-local, portmap, firewall, loopback, tuning) in go.mod, so that
// `make cni-plugins` builds them from the module cache with our own toolchain:
//
//	CGO_ENABLED=0 go build -o bin/cni/bridge github.com/containernetworking/plugins/plugins/main/bridge
//
// Nothing imports this package; the build tag keeps it out of every build.
// internal/network runs the binaries through libcni.
package plugins

import (
	_ "github.com/containernetworking/plugins/plugins/ipam/host-local"
	_ "github.com/containernetworking/plugins/plugins/main/bridge"
	_ "github.com/containernetworking/plugins/plugins/main/loopback"
	_ "github.com/containernetworking/plugins/plugins/meta/firewall"
	_ "github.com/containernetworking/plugins/plugins/meta/portmap"
	_ "github.com/containernetworking/plugins/plugins/meta/tuning"
)
