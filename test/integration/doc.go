// Package integration drives the built binaries (bin/berth-runtime, and
// the real clients that use it) as root against real bundles from test/kit,
// on the real kernel. Every test checks what it leaves behind.
package integration
