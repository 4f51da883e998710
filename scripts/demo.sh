#!/usr/bin/env bash
# Runs a first container with berth-runtime: a busybox bundle in a temp
# directory, `berth-runtime spec`, then `berth-runtime run`. Run as root.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$PWD/bin
dir=$(mktemp -d /tmp/berth-demo.XXXXXX)
trap 'rm -rf "$dir"' EXIT
mkdir -p "$dir/rootfs/bin" "$dir/rootfs/etc"
echo "root:x:0:0:root:/root:/bin/sh" > "$dir/rootfs/etc/passwd"
cp /bin/busybox "$dir/rootfs/bin/busybox"
for a in sh echo cat hostname id ls ps; do ln -s busybox "$dir/rootfs/bin/$a"; done
cd "$dir"
"$bin/berth-runtime" spec
# No terminal (so it runs without one), a cgroup under /berth, and a command.
sed -i -e 's/"terminal": true/"terminal": false/' \
	-e 's|"sh"$|"sh", "-c", "echo hello from $(hostname), pid $$, as $(id -un); ps"|' \
	-e 's|"linux": {|"linux": {\n\t\t"cgroupsPath": "/berth/demo",|' config.json
"$bin/berth-runtime" run "demo-$$"
