#!/usr/bin/env bash
# Run the OCI runtime-tools validation suite against berth-runtime and runc, side by side.
#
#   test/compat/runtime-tools/run.sh [--update-doc] [runtime ...]
#
# Runtimes default to `runc` and $REPO/bin/berth-runtime. A runtime whose binary is missing is
# reported and counted as failing everything. Each validation program runs from the suite's root
# (it copies ./runtimetest and unpacks ./rootfs-amd64.tar.gz) with RUNTIME pointing at a small
# wrapper that adds `--root <private state dir>`, so cleanup never touches anyone else's
# containers. Each program runs inside the cgroup berth/rt-compat of every v1 hierarchy (plus the
# unified one), so the cgroups the suite makes (relative cgroupsPath, default per-container
# cgroups) land under a berth parent; absolute ones are patched to /berth/cgrouptest by build.sh.
#
# Output: $OUT/<runtime>/<program>.{tap,err,rc,secs} raw results, $OUT/<runtime>.tsv and
# $OUT/<runtime>.assertions.tsv, a markdown table on stdout (written into docs/conformance.md
# between markers with --update-doc), the line `conformance: N passed, N failed` for berth-runtime,
# and a verdict. Exit status is non-zero if berth-runtime fails an assertion that runc passes and
# that is not listed in known-failures.txt.
#
# Environment: TIMEOUT (per program, default 60s), PROGRAMS (space-separated subset), OUT
# (default $REPO/.cache/compat), RT_DIR (suite build dir, see build.sh).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../../.." && pwd)
RT_DIR=${RT_DIR:-$REPO/.cache/runtime-tools}
OUT=${OUT:-$REPO/.cache/compat}
TIMEOUT=${TIMEOUT:-60}
GO=${GO:-go}
command -v "$GO" >/dev/null || GO=/usr/local/go/bin/go
CG=/sys/fs/cgroup
CG_SUB=berth/rt-compat

update_doc=0
runtimes=()
for arg in "$@"; do
	case $arg in
	--update-doc) update_doc=1 ;;
	-h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) runtimes+=("$arg") ;;
	esac
done
((${#runtimes[@]})) || runtimes=(runc "$REPO/bin/berth-runtime")

[[ $(id -u) == 0 ]] || { echo "run.sh: must run as root" >&2; exit 1; }
"$HERE/build.sh"
mkdir -p "$OUT"

# --- cgroups: berth/rt-compat in every hierarchy; remember what we made so we remove only that ---
hierarchies=()
for h in "$CG"/*/; do
	h=${h%/}
	[[ -f $h/cgroup.procs ]] && hierarchies+=("$h")
done
made_cgroups=() # deepest last
cgroup_setup() {
	local h d
	for h in "${hierarchies[@]}"; do
		for d in "$h/berth" "$h/$CG_SUB"; do
			[[ -d $d ]] && continue
			mkdir "$d"
			made_cgroups+=("$d")
			# A new v1 cpuset group starts empty; it must inherit cpus/mems before tasks can join.
			if [[ -f $d/cpuset.cpus ]]; then
				cat "$(dirname "$d")/cpuset.cpus" >"$d/cpuset.cpus"
				cat "$(dirname "$d")/cpuset.mems" >"$d/cpuset.mems"
			fi
		done
	done
}
# rmdir every cgroup below $1 (deepest first); cgroup dirs hold only virtual files, so rmdir is it.
cgroup_rmtree() {
	[[ -d $1 ]] || return 0
	find "$1" -mindepth 1 -depth -type d -exec rmdir {} \; 2>/dev/null || true
}
# The suite's cgroups: below our group, /berth/cgrouptest (patched absolute path), and
# testdir/cgrouptest or cgrouptest at a hierarchy root when a runtime resolves the suite's relative
# path against the root instead of its own cgroup (runc 1.1 does so in the unified hierarchy of a
# hybrid host). Root-level ones are removed only if they did not exist before this run.
preexisting=" "
for h in "${hierarchies[@]}"; do
	for d in "$h/testdir" "$h/cgrouptest" "$h/berth/testdir" "$h/berth/cgrouptest"; do [[ -d $d ]] && preexisting+="$d "; done
done
cgroup_sweep() {
	local h d
	for h in "${hierarchies[@]}"; do
		cgroup_rmtree "$h/$CG_SUB"
		for d in "$h/testdir" "$h/cgrouptest" "$h/berth/testdir" "$h/berth/cgrouptest"; do
			[[ -d $d && $preexisting != *" $d "* ]] || continue
			cgroup_rmtree "$d"
			rmdir "$d" 2>/dev/null || echo "run.sh: could not remove $d" >&2
		done
	done
}
cgroup_teardown() {
	local i
	cgroup_sweep
	for ((i = ${#made_cgroups[@]} - 1; i >= 0; i--)); do
		rmdir "${made_cgroups[i]}" 2>/dev/null || echo "run.sh: could not remove ${made_cgroups[i]}" >&2
	done
}

# --- runtime wrappers: a private --root per runtime ---
wrapper_dir="$OUT/bin"
state_root() { echo "/run/berth-compat/$1"; }
make_wrapper() { # name binary
	mkdir -p "$wrapper_dir" "$(state_root "$1")"
	printf '#!/bin/sh\nexec %q --root %q "$@"\n' "$2" "$(state_root "$1")" >"$wrapper_dir/$1"
	chmod +x "$wrapper_dir/$1"
}
leftovers() { # name: force-delete whatever the suite left in our private state root
	local w="$wrapper_dir/$1" id n=0
	for id in $("$w" list -q 2>/dev/null); do
		"$w" delete -f "$id" >/dev/null 2>&1 || "$w" kill "$id" KILL >/dev/null 2>&1 || true
		"$w" delete -f "$id" >/dev/null 2>&1 || true
		n=$((n + 1))
	done
	echo "$n"
}

cleanup() {
	local name
	for name in "${names[@]}"; do
		[[ -x $wrapper_dir/$name ]] && leftovers "$name" >/dev/null
		rm -rf "$(state_root "$name")"
	done
	rmdir /run/berth-compat 2>/dev/null || true
	cgroup_teardown
	rm -f "$stamp"
}
names=()
stamp=$(mktemp)
trap cleanup EXIT
cgroup_setup

programs=()
for t in "$RT_DIR"/validation/*/*.t; do programs+=("$(basename "$t" .t)"); done
if [[ -n ${PROGRAMS:-} ]]; then read -ra programs <<<"$PROGRAMS"; fi

# --- run ---
# run_program NAME DIR PROGRAM: one validation program against one runtime.
run_program() {
	local name=$1 dir=$2 p=$3 p0 n
	p0=$(date +%s.%N)
	set +e
	(
		cd "$RT_DIR"
		for h in "${hierarchies[@]}"; do echo "$BASHPID" >"$h/$CG_SUB/cgroup.procs"; done
		RUNTIME="$wrapper_dir/$name" exec timeout -k 5 "$TIMEOUT" "validation/$p/$p.t"
	) >"$dir/$p.tap" 2>"$dir/$p.err" </dev/null
	echo $? >"$dir/$p.rc"
	set -e
	echo "$(date +%s.%N) - $p0" | bc >"$dir/$p.secs"
	n=$(leftovers "$name")
	((n == 0)) || echo "   $p: removed $n leftover container(s)" | tee -a "$dir/$p.err" >&2
	cgroup_sweep
	printf '   %-36s rc=%s %5.1fs\n' "$p" "$(cat "$dir/$p.rc")" "$(cat "$dir/$p.secs")" >&2
}

start_all=$SECONDS
report_args=()
for rt in "${runtimes[@]}"; do
	name=$(basename "$rt")
	names+=("$name")
	dir="$OUT/$name"
	rm -rf "$dir"
	mkdir -p "$dir"
	bin=$(command -v "$rt" || true)
	if [[ -z $bin || ! -x $bin ]]; then
		echo "== $name: binary $rt not found, counted as failing every program" >&2
		echo missing >"$dir/.missing"
		report_args+=("$name=$dir")
		continue
	fi
	make_wrapper "$name" "$bin"
	echo "== $name ($bin): ${#programs[@]} programs, timeout ${TIMEOUT}s each" >&2
	t0=$SECONDS
	for p in "${programs[@]}"; do
		run_program "$name" "$dir" "$p"
	done
	echo "== $name: $((SECONDS - t0))s" >&2
	report_args+=("$name=$dir")
done
echo "== all runtimes: $((SECONDS - start_all))s" >&2

# --- anything the suite left in the cgroup tree? ---
stray=$(find "$CG" -maxdepth 4 -type d \( -name cgrouptest -o -name testdir -o -path "*/$CG_SUB/*" \) 2>/dev/null |
	while read -r d; do [[ $preexisting == *" $d "* ]] || echo "$d"; done)
[[ -z $stray ]] || { echo "run.sh: cgroups left behind:" >&2; echo "$stray" >&2; }

# --- report ---
doc_args=()
((update_doc)) && doc_args=(-update-doc "$REPO/docs/conformance.md")
report() {
	(cd "$REPO" && CGO_ENABLED=0 "$GO" run ./test/compat/runtime-tools/report \
		-known "$HERE/known-failures.txt" -out "$OUT" -subject berth-runtime -reference runc "$@" "${report_args[@]}")
}
# Some programs race (they signal or read state right after an operation):
# when berth-runtime fails an assertion runc passes, its failing programs run
# once more, and that second result is the one reported (and said so).
if ! report >/dev/null 2>&1 && [[ -d $OUT/berth-runtime && -f $OUT/berth-runtime.tsv ]]; then
	retry=$(awk -F'\t' 'NR > 1 && $3 > 0 { print $1 }' "$OUT/berth-runtime.tsv")
	if [[ -n $retry ]]; then
		echo "== berth-runtime: running once more the programs with failures:" $retry >&2
		for p in $retry; do run_program berth-runtime "$OUT/berth-runtime" "$p"; done
	fi
fi
report "${doc_args[@]}"
