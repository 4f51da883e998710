#!/bin/sh
# init.sh — PID 1 of the cgroup v2 test VM (copied to /init in the initramfs
# by run.sh; it runs under busybox sh, nothing else is in the guest).
#
# Stage 1 (/init): the initramfs is the rootfs mount, which can be neither
# unmounted nor moved, so the kernel refuses pivot_root inside it (EINVAL) and
# a container runtime could not work. Copy everything onto a tmpfs and
# switch_root into it; stage 2 then runs on an ordinary mount.
#
# Stage 2 (/init stage2): mount proc, sys, dev, tmp, run and cgroup2 (with
# nsdelegate, every controller enabled at the root), load the modules, bring
# up lo, then run the test binaries listed in /berth/tests.list (or start a
# shell), print one marker line per package and power off:
#
#   BERTH-VM: PASS <package> (exit 0)
#   BERTH-VM: FAIL <package> (exit 1)
#   BERTH-VM: DONE (exit N)
#
# run.sh reads the markers from the serial console; a missing DONE is a failure.
export PATH=/bin:/sbin:/usr/bin:/usr/sbin

if [ "$$" = 1 ] && [ "${1:-}" != stage2 ]; then
	mkdir -p /newroot
	mount -t tmpfs -o mode=0755 tmpfs /newroot
	for f in /* /.[!.]*; do
		case $f in /newroot | '/.[!.]*') continue ;; esac
		cp -a "$f" /newroot/
	done
	# switch_root empties the old rootfs (freeing its memory) and execs.
	exec switch_root /newroot /init stage2
fi

. /berth/env # written by run.sh: BERTH_VM_MODE, BERTH_VM_TESTFLAGS, BERTH_VM_SKIP, BERTH_VM_REPO

marker() { echo "BERTH-VM: $*"; }

setup() {
	mkdir -p /proc /sys /dev /tmp /run /root
	mount -t proc proc /proc
	mount -t sysfs sysfs /sys
	mount -t devtmpfs devtmpfs /dev
	mkdir -p /dev/pts /dev/shm /dev/mqueue
	mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts /dev/pts
	mount -t tmpfs -o mode=1777 shm /dev/shm
	mount -t mqueue mqueue /dev/mqueue
	# / is already a tmpfs (stage 1): no tmpfs on /tmp, which would hide a
	# repository mirrored under /tmp (CI clones anywhere, /tmp included).
	chmod 1777 /tmp
	mount -t tmpfs -o mode=0755 tmpfs /run
	# A systemd host's / is shared; behave like one.
	mount --make-rshared /

	# cgroup v2 only: the kernel was booted with cgroup_no_v1=all.
	mount -t cgroup2 -o nsdelegate cgroup2 /sys/fs/cgroup
	for c in $(cat /sys/fs/cgroup/cgroup.controllers); do
		echo "+$c" >/sys/fs/cgroup/cgroup.subtree_control ||
			echo "init: cannot enable cgroup controller $c" >&2
	done

	if [ -f /lib/modules/load.list ]; then
		while read -r m; do
			insmod "/lib/modules/$m.ko" || echo "init: insmod $m failed" >&2
		done </lib/modules/load.list
	fi

	ip link set lo up
	hostname berth-vm
	echo "init: kernel $(uname -r), cgroup2 controllers: $(cat /sys/fs/cgroup/cgroup.subtree_control)"
}

# run_tests runs every binary in /berth/tests.list ("name dir" per line) from
# its package directory, as "go test" would, and prints the markers.
run_tests() {
	all=0
	while read -r name dir; do
		[ -n "$name" ] || continue
		set -- $BERTH_VM_TESTFLAGS
		if [ -s "/berth/args/$name" ]; then
			set --
			while IFS= read -r a; do set -- "$@" "$a"; done <"/berth/args/$name"
		fi
		# First, so that a -test.skip of the caller's wins.
		[ -z "$BERTH_VM_SKIP" ] || set -- "-test.skip=$BERTH_VM_SKIP" "$@"
		marker "RUN $name"
		mkdir -p "$dir"
		(cd "$dir" && exec env HOME=/root TMPDIR=/tmp BERTH_TEST_STRICT=1 BERTH_BIN_DIR=/bin \
			"/berth/tests/$name" "$@")
		rc=$?
		if [ "$rc" = 0 ]; then marker "PASS $name (exit 0)"; else marker "FAIL $name (exit $rc)"; all=1; fi
	done </berth/tests.list
	marker "DONE (exit $all)"
}

case "${1:-}" in
run-tests) # from the debug shell: /init run-tests
	run_tests
	exit
	;;
esac

setup
case $BERTH_VM_MODE in
shell)
	echo "init: debug shell; '/init run-tests' runs the tests, 'poweroff -f' (or exit) ends the VM"
	setsid cttyhack sh -l
	;;
*)
	start=$(cut -d' ' -f1 /proc/uptime)
	echo "init: userspace up at ${start}s after kernel start"
	run_tests
	;;
esac
sync
poweroff -f
