#!/bin/sh
# exec.sh — a "go test -exec" wrapper that runs the test binary in the cgroup
# v2 virtual machine (one boot per package) and returns its exit status:
#
#   CGO_ENABLED=0 go test -exec "$PWD/test/vm/exec.sh" -v ./internal/linux/cgroups
#
# The binary must be static (CGO_ENABLED=0): the guest has no libc. go test
# runs this from the package directory; run.sh mirrors that directory (with
# its testdata) in the guest and runs the binary there as root with
# BERTH_TEST_STRICT=1. To test several packages in one boot, use run.sh.
exec "$(dirname "$0")/run.sh" -exec "$@"
