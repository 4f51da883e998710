#!/usr/bin/env bash
# Build the OCI runtime-tools validation suite (v0.9.0) for test/compat/runtime-tools/run.sh.
#
# The Go module proxy serves runtime-tools only at v0.9.0, which predates Go modules (it vendored
# with Godeps). We copy the module source to a writable work dir, give it a go.mod pinned to what
# it was written for (runtime-spec v1.0.2, selinux v1.8.0), tidy that go.mod there (never in the
# Berth module), and build every validation program plus runtimetest, all static.
#
# Output, in $RT_DIR (default $REPO/.cache/runtime-tools):
#   runtimetest                     static probe copied into every test bundle
#   validation/<name>/<name>.t      one TAP-emitting program per validation directory
#   rootfs-amd64.tar.gz             the test rootfs (shipped in the module)
#   .built                          stamp: present when the build above is complete
#
# Local patches (cgroup paths only, see PATCHES below): this host's rule is that test cgroups live
# under a "berth" parent, so the suite's absolute cgroup paths are moved from /cgrouptest to
# /berth/cgrouptest. The assertions themselves are unchanged.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/../../.." && pwd)
RT_VERSION=v0.9.0
RT_DIR=${RT_DIR:-$REPO/.cache/runtime-tools}
GO=${GO:-go}
command -v "$GO" >/dev/null || GO=/usr/local/go/bin/go

stamp="$RT_DIR/.built"
want="runtime-tools $RT_VERSION patch 1"
if [[ -f $stamp && $(cat "$stamp") == "$want" && ${FORCE:-0} != 1 ]]; then
	echo "runtime-tools $RT_VERSION already built in $RT_DIR (FORCE=1 to rebuild)"
	exit 0
fi

# 1. Fetch the source through the module proxy. `go mod download` needs a module context for
#    -json output only in old Go versions; run it from a scratch dir so the Berth go.mod is untouched.
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
src=$(cd "$scratch" && GOFLAGS=-mod=mod "$GO" mod download -json "github.com/opencontainers/runtime-tools@$RT_VERSION" |
	sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
[[ -d $src ]] || { echo "build.sh: module download gave no source dir" >&2; exit 1; }

# 2. Writable copy (the module cache is read-only).
rm -rf "$RT_DIR"
mkdir -p "$(dirname "$RT_DIR")"
cp -r "$src" "$RT_DIR"
chmod -R u+w "$RT_DIR"
cd "$RT_DIR"

# 3. PATCHES — cgroup locations only (see header).
#    cgroups/cgroups.go: AbsCgroupPath "/cgrouptest" -> "/berth/cgrouptest" (used by every
#      linux_cgroups_* program and delete_resources).
#    validation/delete_only_create_resources: it mkdirs /sys/fs/cgroup/pids/cgrouptest itself.
sed -i 's|AbsCgroupPath = "/cgrouptest"|AbsCgroupPath = "/berth/cgrouptest"|' cgroups/cgroups.go
sed -i 's|filepath.Join(cgPath, "pids", "cgrouptest")|filepath.Join(cgPath, "pids", "berth", "cgrouptest")|' \
	validation/delete_only_create_resources/delete_only_create_resources.go
grep -q '"/berth/cgrouptest"' cgroups/cgroups.go
grep -q '"pids", "berth", "cgrouptest"' validation/delete_only_create_resources/delete_only_create_resources.go

# 4. A go.mod pinned to the spec and selinux versions the code was written for; tidy picks the rest.
rm -rf Godeps vendor
cat >go.mod <<MOD
module github.com/opencontainers/runtime-tools

go 1.17

require (
	github.com/opencontainers/runtime-spec v1.0.2
	github.com/opencontainers/selinux v1.8.0
)
MOD
GOFLAGS=-mod=mod "$GO" mod tidy

# 5. Build: runtimetest (runs inside the container rootfs, so static) and every validation program.
export CGO_ENABLED=0 GOFLAGS=-mod=mod
ldflags="-X main.gitCommit=$RT_VERSION -X main.version=${RT_VERSION#v}"
"$GO" build -trimpath -ldflags "$ldflags" -o runtimetest ./cmd/runtimetest
n=0
for dir in validation/*/; do
	name=$(basename "$dir")
	[[ $name == util ]] && continue
	"$GO" build -trimpath -o "$dir/$name.t" "./$dir"
	n=$((n + 1))
done
file runtimetest 2>/dev/null | grep -q 'statically linked' || { echo "build.sh: runtimetest is not static" >&2; exit 1; }
echo "$want" >"$stamp"
echo "built runtimetest and $n validation programs in $RT_DIR"
