#!/bin/bash
# run.sh — run Go tests in a cgroup v2 (unified only) virtual machine.
#
#   test/vm/run.sh [PKG...]          test binaries of PKG... (default: $BERTH_VM_PKGS)
#   test/vm/run.sh -shell [PKG...]   same initramfs, but a shell on the console
#   test/vm/run.sh -exec BIN [ARG...]  one prebuilt test binary (see exec.sh)
#
# This host is cgroup v1 hybrid and its cgroup mounts must not be touched, so
# v2 is proven in QEMU under TCG (software emulation): a Debian 6.1 kernel from
# kernel.sh, booted with cgroup_no_v1=all, and an initramfs holding busybox,
# the CGO_ENABLED=0 test binaries, bin/berth-runtime and bin/probe (if built),
# the kernel modules and init.sh as /init. The console is the serial port,
# streamed here and kept in $BERTH_VM_CACHE/last-console.log.
#
# The exit status is the tests': 0 only if every package printed a PASS marker
# and the guest reached DONE. Environment:
#   BERTH_VM_PKGS       packages to test (default ./internal/linux/cgroups ./test/integration)
#   BERTH_VM_TIMEOUT    seconds before QEMU is killed (default 600)
#   BERTH_VM_MEM, BERTH_VM_SMP   guest size (default 2G, 2)
#   BERTH_VM_TESTFLAGS  flags for every test binary (default -test.v -test.timeout=...)
#   BERTH_VM_SKIP       -test.skip regexp for every test binary, also with -exec
#                       (default: the tests of clients the guest lacks,
#                       ^(TestContainerd|TestPodman)$; empty skips nothing)
#   BERTH_VM_GOFLAGS    extra flags for "go test -c" (e.g. -race is impossible: CGO_ENABLED=0)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cache=${BERTH_VM_CACHE:-$repo/.cache/vm}
timeout_s=${BERTH_VM_TIMEOUT:-600}
mem=${BERTH_VM_MEM:-2G}
smp=${BERTH_VM_SMP:-2}
go=${GO:-go}

log() { echo "run.sh: $*" >&2; }
die() { log "$*"; exit 2; }

mode=tests
exec_bin=
case "${1:-}" in
-shell) mode=shell; shift ;;
-exec)
	mode=exec
	[ $# -ge 2 ] || die "usage: run.sh -exec BIN [ARG...]"
	exec_bin=$2
	shift 2
	;;
-h | -help | --help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
esac

command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 not found (apt-get install qemu-system-x86)"
command -v busybox >/dev/null || die "busybox not found (apt-get install busybox-static)"
command -v cpio >/dev/null || die "cpio not found (apt-get install cpio)"

kdir=$("$here/kernel.sh")

mkdir -p "$cache"
work=$(mktemp -d "$cache/.run.XXXXXX")
qpid=
cleanup() {
	if [ -n "$qpid" ] && kill -0 "$qpid" 2>/dev/null; then
		log "killing QEMU (timeout wrapper pid $qpid)"
		kill -TERM "$qpid" 2>/dev/null || true
		sleep 1
		kill -KILL "$qpid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

root=$work/root
mkdir -p "$root"/{bin,dev,proc,sys,tmp,run,root,etc,lib/modules,berth/tests,berth/args,usr}
ln -s ../bin "$root/usr/bin"
ln -s bin "$root/sbin"
ln -s ../bin "$root/usr/sbin"

# busybox and its applets.
cp "$(readlink -f "$(command -v busybox)")" "$root/bin/busybox"
for a in $(busybox --list); do
	[ -e "$root/bin/$a" ] || ln -s busybox "$root/bin/$a"
done
[ "$(id -u)" = 0 ] && mknod -m 600 "$root/dev/console" c 5 1

cat >"$root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
cat >"$root/etc/group" <<'EOF'
root:x:0:
nogroup:x:65534:
EOF
printf '127.0.0.1 localhost berth-vm\n::1 localhost\n' >"$root/etc/hosts"

cp "$kdir"/modules/*.ko "$kdir/modules/load.list" "$root/lib/modules/"
cp "$here/init.sh" "$root/init"
chmod 0755 "$root/init"

is_static() {
	if command -v readelf >/dev/null; then
		! readelf -l "$1" 2>/dev/null | grep -q 'INTERP'
	fi
}

# add_test NAME BIN DIR: a test binary, run in the guest from DIR (its
# package directory, mirrored at the same absolute path with its testdata).
add_test() {
	local name=$1 bin=$2 dir=$3
	is_static "$bin" || die "$bin is dynamically linked; build it with CGO_ENABLED=0"
	cp "$bin" "$root/berth/tests/$name"
	mkdir -p "$root$dir"
	[ -d "$dir/testdata" ] && cp -a "$dir/testdata" "$root$dir/"
	echo "$name $dir" >>"$root/berth/tests.list"
}

: >"$root/berth/tests.list"
if [ "$mode" = exec ]; then
	# go test -exec: BIN is the test binary, the arguments are its flags, the
	# working directory is the package directory.
	name=$(basename "$exec_bin")
	add_test "$name" "$exec_bin" "$PWD"
	for a in "$@"; do printf '%s\n' "$a"; done >"$root/berth/args/$name"
	# An empty args file means "use BERTH_VM_TESTFLAGS"; make it non-empty.
	[ $# -gt 0 ] || echo "-test.v" >"$root/berth/args/$name"
else
	pkgs=("$@")
	if [ ${#pkgs[@]} -eq 0 ]; then
		read -r -a pkgs <<<"${BERTH_VM_PKGS:-./internal/linux/cgroups ./test/integration}"
	fi
	for p in "${pkgs[@]}"; do
		dir=$(cd "$repo" && cd "$p" 2>/dev/null && pwd) || { log "skip $p: no such directory"; continue; }
		if ! compgen -G "$dir/*_test.go" >/dev/null; then
			log "skip $p: no test files"
			continue
		fi
		name=$(echo "${dir#"$repo"/}" | tr / _).test
		log "building $p"
		# No -trimpath: testenv.RepoRoot comes from the source path compiled
		# in, so the guest mirrors the host's $repo paths.
		(cd "$repo" && CGO_ENABLED=0 "$go" test -c ${BERTH_VM_GOFLAGS:-} -o "$work/$name" "$p") ||
			die "go test -c $p failed"
		if [ ! -f "$work/$name" ]; then # go test -c writes nothing when build tags exclude every test
			log "skip $p: no test files for this build"
			continue
		fi
		add_test "$name" "$work/$name" "$dir"
	done
	if [ "$mode" = tests ] && [ ! -s "$root/berth/tests.list" ]; then
		log "no test binaries to run: nothing to prove"
		exit 0
	fi
fi

# The built Berth binaries, at /bin (BERTH_BIN_DIR) and at $repo/bin, where
# testenv.Binary looks when BERTH_BIN_DIR is unset.
for b in berth-runtime probe; do
	f=$repo/bin/$b
	[ -f "$f" ] || { log "note: $f not built (make build), not in the guest"; continue; }
	is_static "$f" || die "$f is dynamically linked; build it with CGO_ENABLED=0 (make build)"
	mkdir -p "$root$repo/bin"
	cp "$f" "$root$repo/bin/$b"
	ln -sf "$repo/bin/$b" "$root/bin/$b"
done

testflags=${BERTH_VM_TESTFLAGS:-"-test.v -test.timeout=$((timeout_s > 120 ? timeout_s - 60 : timeout_s))s"}
# containerd, Podman, CRIU and useradd are not in the guest: those tests run
# on the host only; so do the engine's (berth, berth-monitor, the test
# registries and Go are not in the guest either): the guest proves the
# runtime on cgroup v2.
skip=${BERTH_VM_SKIP-'^(TestContainerd|TestPodman|TestCheckpointRestore|TestCheckpointFailureLeavesContainer|TestRootless|TestImage.*|TestPull.*|TestRegistry.*|TestMonitor.*|TestContainer.*|TestVerb.*|TestNetwork.*|TestRootlessEngine.*|TestRootlessNetwork.*)$'}
# sq quotes a value for the guest's sh (the regexp has $ and |).
sq() { printf "'%s'" "${1//\'/\'\\\'\'}"; }
cat >"$root/berth/env" <<EOF
BERTH_VM_MODE=$mode
BERTH_VM_TESTFLAGS=$(sq "$testflags")
BERTH_VM_SKIP=$(sq "$skip")
BERTH_VM_REPO=$repo
EOF

initrd=$work/initrd.cpio
(cd "$root" && find . -print0 | cpio --null -o -H newc --quiet -R 0:0) >"$initrd"
log "initramfs $(du -m "$initrd" | cut -f1) MiB (uncompressed), kernel $(cat "$kdir/version")"

qemu=(qemu-system-x86_64 -accel tcg -m "$mem" -smp "$smp" -nographic -no-reboot
	-no-user-config -nic none
	-kernel "$kdir/vmlinuz" -initrd "$initrd"
	-append "console=ttyS0 cgroup_no_v1=all panic=-1 quiet ${BERTH_VM_APPEND:-}")

if [ "$mode" = shell ]; then
	log "booting with a shell on this terminal (Ctrl-A x quits QEMU)"
	"${qemu[@]}"
	exit
fi

console=$cache/last-console.log
# clean drops the tty's \r and SeaBIOS's terminal escapes from the console.
clean() { sed -u -e 's/\r$//' -e 's/\x1bc//g' -e 's/\x1b\[[0-9;?]*[A-Za-z]//g'; }
: >"$console"
start=$(date +%s.%N)
: >"$work/console.raw"
timeout -k 5 "$timeout_s" "${qemu[@]}" </dev/null >"$work/console.raw" 2>&1 &
qpid=$!
# Stream the serial console (without the tty's \r) while the VM runs.
tail -s 0.2 -n +1 -f --pid="$qpid" "$work/console.raw" | clean | tee "$console" &
tpid=$!
set +e
wait "$qpid"
qrc=$?
set -e
qpid=
wait "$tpid" || true
clean <"$work/console.raw" >"$console"
end=$(date +%s.%N)

# Summary: the closing lines of each package's output and its marker.
echo
echo "==== cgroup v2 VM summary ($(cat "$kdir/version"), $(awk -v a="$start" -v b="$end" 'BEGIN{printf "%.1f", b-a}') s) ===="
awk '
	/^BERTH-VM: RUN / { n = 0; next }
	/^BERTH-VM: (PASS|FAIL) / {
		s = (n > 12) ? n - 12 : 0
		for (i = s + 1; i <= n; i++) print "    " buf[i]
		print; n = 0; next
	}
	{ buf[++n] = $0 }
' "$console"
grep -m1 '^init: userspace up' "$console" || true

rc=0
if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
	log "FAIL: the VM timed out after ${timeout_s}s and was killed"
	rc=1
fi
done_line=$(grep -a '^BERTH-VM: DONE (exit ' "$console" | tail -n 1 || true)
if [ -z "$done_line" ]; then
	log "FAIL: no DONE marker from the guest (crash, panic or timeout); console in $console"
	rc=1
fi
expected=$(wc -l <"$root/berth/tests.list")
got=$(grep -aEc '^BERTH-VM: (PASS|FAIL) ' "$console" || true)
if [ "$got" != "$expected" ]; then
	log "FAIL: $got of $expected packages reported a result"
	rc=1
fi
if grep -aq '^BERTH-VM: FAIL ' "$console"; then
	rc=1
fi
if [ "$mode" = exec ]; then
	# go test -exec wants the test binary's own status.
	erc=$(sed -n 's/^BERTH-VM: \(PASS\|FAIL\) .* (exit \([0-9]*\))$/\2/p' "$console" | tail -n 1)
	[ -n "$erc" ] && [ -n "$done_line" ] && exit "$erc"
	exit 1
fi
[ "$rc" = 0 ] && echo "==== cgroup v2 VM: PASS ====" || echo "==== cgroup v2 VM: FAIL ===="
exit "$rc"
