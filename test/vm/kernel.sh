#!/bin/sh
# kernel.sh — fetch a Debian 6.1 kernel for the cgroup v2 test VM, without
# installing anything on the host, and print the directory that holds it.
#
#   test/vm/kernel.sh            -> prints e.g. $REPO/.cache/vm/linux-image-6.1.0-57-cloud-amd64-unsigned
#
# That directory contains:
#   vmlinuz        the bzImage QEMU boots with -kernel
#   version        the kernel release (uname -r in the guest)
#   modules/*.ko   the modules the tests need (BERTH_VM_MODULES plus their
#                  dependencies), with modules/load.list giving the insmod order
#
# The package is the newest linux-image-6.1.0-<n>-cloud-amd64-unsigned apt knows
# (override with BERTH_VM_KERNEL_PKG). The cloud flavour has the same cgroup,
# namespace, seccomp and serial options built in as the generic one, but far
# fewer drivers to probe, so it boots faster under TCG. overlay, veth and bridge
# are modules in both flavours, hence the modules/ directory.
#
# Everything is cached under $REPO/.cache/vm (gitignored): a rerun downloads
# nothing unless apt has learned of a newer kernel.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cache=${BERTH_VM_CACHE:-$repo/.cache/vm}
# Modules loaded in the guest, dependencies resolved below.
wanted=${BERTH_VM_MODULES:-overlay veth bridge br_netfilter}

log() { echo "kernel.sh: $*" >&2; }

pkg=${BERTH_VM_KERNEL_PKG:-}
if [ -z "$pkg" ]; then
	pkg=$(apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-cloud-amd64-unsigned$' |
		awk '{print $1}' | sort -V | tail -n 1)
	if [ -z "$pkg" ]; then
		# apt knows none (no lists?): fall back to whatever was fetched before.
		pkg=$(ls -d "$cache"/linux-image-6.1.0-*/ 2>/dev/null | xargs -r -n1 basename | sort -V | tail -n 1)
	fi
	[ -n "$pkg" ] || { log "no linux-image-6.1.0-*-cloud-amd64-unsigned known to apt (apt-get update?)"; exit 1; }
fi

dir=$cache/$pkg
if [ -s "$dir/vmlinuz" ] && [ -s "$dir/modules/load.list" ] && [ "$(cat "$dir/wanted" 2>/dev/null)" = "$wanted" ]; then
	echo "$dir"
	exit 0
fi

mkdir -p "$cache"
tmp=$(mktemp -d "$cache/.fetch.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

deb=$(ls "$cache/${pkg}_"*.deb 2>/dev/null | head -n 1 || true)
if [ -z "$deb" ]; then
	log "downloading $pkg"
	# apt-get download writes into the current directory; _apt cannot write
	# there as root, which only costs a warning (it downloads unsandboxed).
	(cd "$tmp" && apt-get download -q "$pkg" 2>&1 | grep -v '^W: Download is performed unsandboxed' >&2) || true
	deb=$(ls "$tmp/${pkg}_"*.deb 2>/dev/null | head -n 1 || true)
	[ -n "$deb" ] || { log "apt-get download $pkg failed"; exit 1; }
	mv "$deb" "$cache/"
	deb=$cache/$(basename "$deb")
fi

log "extracting $(basename "$deb")"
dpkg-deb -x "$deb" "$tmp/x"
vmlinuz=$(ls "$tmp"/x/boot/vmlinuz-* | head -n 1)
version=${vmlinuz##*/vmlinuz-}
moddir=$tmp/x/lib/modules/$version
[ -d "$moddir" ] || moddir=$tmp/x/usr/lib/modules/$version

rm -rf "$dir"
mkdir -p "$dir/modules"
cp "$vmlinuz" "$dir/vmlinuz"
cp "$tmp/x/boot/config-$version" "$dir/config"
echo "$version" >"$dir/version"

# Resolve dependencies from each module's own .modinfo (the .deb ships no
# modules.dep: depmod runs at install time, and we install nothing), and write
# the load order, dependencies first.
: >"$dir/modules/load.list"
add() {
	name=$1
	grep -qx "$name" "$dir/modules/load.list" && return 0
	ko=$(find "$moddir" -name "$name.ko" | head -n 1)
	if [ -z "$ko" ]; then
		if grep -q "^CONFIG_$(echo "$name" | tr a-z A-Z)=y" "$dir/config" ||
			grep -q "/$name.ko\$" "$moddir/modules.builtin" 2>/dev/null; then
			return 0 # built in
		fi
		log "module $name not found in $version"
		return 1
	fi
	deps=$(busybox strings -a "$ko" 2>/dev/null | sed -n 's/^depends=//p' | head -n 1 | tr , ' ')
	# A subshell per dependency: sh has no local variables, and the state
	# that matters (load.list) is in a file.
	for d in $deps; do (add "$d") || return 1; done
	cp "$ko" "$dir/modules/$name.ko"
	echo "$name" >>"$dir/modules/load.list"
}
for m in $wanted; do add "$m"; done
echo "$wanted" >"$dir/wanted"

log "$pkg: kernel $version, modules: $(tr '\n' ' ' <"$dir/modules/load.list")"
echo "$dir"
