#!/usr/bin/env bash
# Installs what Berth's build, tests and benchmarks need on a Debian 12 host:
# Debian packages (only those missing) and the Go modules. Idempotent; run as root.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
	busybox-static
	runc
	criu
	containerd
	podman
	qemu-system-x86
	cpio
	hyperfine
	time
	skopeo umoci
	docker-registry apache2-utils curl
	uidmap catatonit iproute2
	slirp4netns
	iptables
	procps
	git make gcc libc6-dev
)
missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "install-deps: installing ${missing[*]}"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
	# The package starts a system registry on :5000; the tests run their own
	# there (scripts/registry.sh).
	if [[ " ${missing[*]} " == *" docker-registry "* ]] && [ -d /run/systemd/system ]; then
		systemctl disable --now docker-registry.service >/dev/null 2>&1 || true
	fi
fi
export PATH=/usr/local/go/bin:$PATH
go mod download
echo "install-deps: ok"
