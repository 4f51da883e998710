#!/usr/bin/env bash
# Container lifecycle latency and peak RSS: berth-runtime beside runc, in one run, as ratios.
#
#   bench/runtime.sh [--no-doc]        (normally via `make bench`, which builds first)
#
# One bundle (busybox-static rootfs, `berth-runtime spec` with terminal false, args /bin/true,
# cgroupsPath /berth/bench-<pid>) serves both runtimes; each runtime gets a private --root in a
# temp dir. Scenarios, all timed by hyperfine --shell=none:
#   run        `<rt> run` of /bin/true: foreground, waits, deletes itself
#   lifecycle  bench/lifecycle.sh: create; start; wait for the pid to exit; delete
#   floor      what the kernel needs without any runtime: `unshare` of the container's six
#              namespaces running /bin/true, and a plain `chroot rootfs /bin/true`
# Fairness on a noisy host: ROUNDS hyperfine invocations, each running every command RUNS
# times after WARMUP runs; the command order is reversed every other round; the samples of all
# rounds are pooled per command. Peak RSS: RSS_SAMPLES `run`s per runtime under GNU time,
# alternating runtimes; %M is the largest ru_maxrss of any one process in the waited-for tree
# (runtime, its re-exec'd init, the container process), not the sum of the tree.
#
# Output: the markdown table on stdout, bench/results/<UTC date-time>.json (pooled stats, raw
# samples, host), and the table, host and command between the markers of docs/performance.md
# (unless --no-doc). Nothing is left behind: the trap force-deletes what is in the private
# roots, kills what is left in the bench cgroup, and removes the cgroups it made.
#
# Environment: ROUNDS (default 6), RUNS (per command per round, default 100), WARMUP (5),
# RSS_SAMPLES (9), RUNC (runc), BERTH ($REPO/bin/berth-runtime).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
ROUNDS=${ROUNDS:-6}
RUNS=${RUNS:-100}
WARMUP=${WARMUP:-5}
RSS_SAMPLES=${RSS_SAMPLES:-9}
RUNC=${RUNC:-$(command -v runc || true)}
BERTH=${BERTH:-$REPO/bin/berth-runtime}
DOC=$REPO/docs/performance.md
CG=/sys/fs/cgroup

update_doc=1
for arg in "$@"; do
	case $arg in
	--no-doc) update_doc=0 ;;
	-h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "runtime.sh: unknown argument $arg" >&2; exit 2 ;;
	esac
done

die() { echo "runtime.sh: $*" >&2; exit 1; }
[[ $(id -u) == 0 ]] || die "must run as root"
for t in hyperfine jq unshare chroot; do command -v "$t" >/dev/null || die "$t not found"; done
[[ -x /usr/bin/time ]] || die "GNU time not found (apt-get install -y time)"
[[ -x $BERTH ]] || die "$BERTH not built (make build)"
[[ -n $RUNC && -x $RUNC ]] || die "runc not found"
BUSYBOX=$(command -v busybox) || die "busybox not found (busybox-static)"
file -L "$BUSYBOX" 2>/dev/null | grep -q 'statically linked' || die "$BUSYBOX is not static"

# --- workspace, cgroups, cleanup ---
W=$(mktemp -d /tmp/berth-bench.XXXXXX)
BUNDLE=$W/bundle
ROOT_BERTH=$W/root-berth
ROOT_RUNC=$W/root-runc
FIFO=$W/sleep.fifo
CG_REL=berth/bench-$$
mkdir -p "$BUNDLE/rootfs/bin" "$ROOT_BERTH" "$ROOT_RUNC"
mkfifo "$FIFO"

hierarchies=()
for h in "$CG"/*/; do
	h=${h%/}
	[[ -f $h/cgroup.procs ]] && hierarchies+=("$h")
done
berth_parent_made=() # /berth parents that did not exist before this run
for h in "${hierarchies[@]}"; do
	[[ -d $h/berth ]] || berth_parent_made+=("$h/berth")
done

cleanup() {
	local rc=$? rt root id h p
	for rt in "$BERTH:$ROOT_BERTH" "$RUNC:$ROOT_RUNC"; do
		root=${rt#*:}
		for id in $("${rt%%:*}" --root "$root" list -q 2>/dev/null); do
			"${rt%%:*}" --root "$root" delete --force "$id" >/dev/null 2>&1 || true
		done
	done
	for h in "${hierarchies[@]}"; do
		[[ -d $h/$CG_REL ]] || continue
		if [[ -f $h/$CG_REL/cgroup.procs ]]; then
			while read -r p; do kill -9 "$p" 2>/dev/null || true; done <"$h/$CG_REL/cgroup.procs"
		fi
		rmdir "$h/$CG_REL" 2>/dev/null || { sleep 0.2; rmdir "$h/$CG_REL" 2>/dev/null; } ||
			echo "runtime.sh: could not remove $h/$CG_REL" >&2
	done
	# Parents we made: remove only if empty (someone else may have started using them).
	for p in "${berth_parent_made[@]}"; do rmdir "$p" 2>/dev/null || true; done
	rm -rf "$W"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- the bundle ---
cp "$BUSYBOX" "$BUNDLE/rootfs/bin/busybox"
ln -s busybox "$BUNDLE/rootfs/bin/true"
ln -s busybox "$BUNDLE/rootfs/bin/sh"
"$BERTH" spec --bundle "$BUNDLE"
jq --arg cg "/$CG_REL" '.process.terminal = false | .process.args = ["/bin/true"]
	| .linux.cgroupsPath = $cg' "$BUNDLE/config.json" >"$W/config.json"
mv "$W/config.json" "$BUNDLE/config.json"

# --- latency: ROUNDS interleaved hyperfine runs ---
names=(berth:run runc:run berth:lifecycle runc:lifecycle floor:unshare floor:chroot)
declare -A cmds=(
	[berth:run]="$BERTH --root $ROOT_BERTH run --bundle $BUNDLE bench-run"
	[runc:run]="$RUNC --root $ROOT_RUNC run --bundle $BUNDLE bench-run"
	[berth:lifecycle]="$HERE/lifecycle.sh $BERTH $ROOT_BERTH $BUNDLE $FIFO"
	[runc:lifecycle]="$HERE/lifecycle.sh $RUNC $ROOT_RUNC $BUNDLE $FIFO"
	[floor:unshare]="unshare --fork --pid --mount --uts --ipc --net --cgroup /bin/true"
	[floor:chroot]="chroot $BUNDLE/rootfs /bin/true"
)
start_s=$SECONDS
for ((r = 1; r <= ROUNDS; r++)); do
	order=("${names[@]}")
	if ((r % 2 == 0)); then
		order=()
		for ((i = ${#names[@]} - 1; i >= 0; i--)); do order+=("${names[i]}"); done
	fi
	args=()
	for n in "${order[@]}"; do args+=(-n "$n" "${cmds[$n]}"); done
	echo "--- round $r/$ROUNDS: ${#order[@]} commands x $RUNS runs (+$WARMUP warmup) ---" >&2
	hyperfine --shell=none --style basic --warmup "$WARMUP" --runs "$RUNS" \
		--export-json "$W/round-$r.json" "${args[@]}" >&2
done

# --- peak RSS of `run` ---
rss_berth=() rss_runc=()
for ((i = 1; i <= RSS_SAMPLES; i++)); do
	/usr/bin/time -f %M -o "$W/rss" "$BERTH" --root "$ROOT_BERTH" run --bundle "$BUNDLE" bench-rss
	rss_berth+=("$(<"$W/rss")")
	/usr/bin/time -f %M -o "$W/rss" "$RUNC" --root "$ROOT_RUNC" run --bundle "$BUNDLE" bench-rss
	rss_runc+=("$(<"$W/rss")")
done
elapsed=$((SECONDS - start_s))

# --- host ---
cgroup_mode=v1
if [[ $(stat -fc %T "$CG") == cgroup2fs ]]; then
	cgroup_mode=v2
elif grep -q ' /sys/fs/cgroup/unified cgroup2 ' /proc/mounts; then
	cgroup_mode="hybrid (v1 controllers + v2 at /sys/fs/cgroup/unified)"
fi
commit=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)
git -C "$REPO" diff --quiet HEAD -- cmd internal 2>/dev/null || commit="$commit (+ uncommitted changes)"
host=$(jq -n \
	--arg kernel "$(uname -r)" \
	--arg cgroup "$cgroup_mode" \
	--arg cpus "$(nproc)" \
	--arg cpu "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)" \
	--arg runc "$("$RUNC" --version | head -1)" \
	--arg berth "$commit" \
	--arg hyperfine "$(hyperfine --version)" \
	'{kernel: $kernel, cgroup: $cgroup, cpus: ($cpus | tonumber), cpu: $cpu, runc: $runc,
	  berth_runtime_commit: $berth, hyperfine: $hyperfine}')

# --- pool the rounds, compute stats and ratios ---
date_utc=$(date -u +%Y-%m-%dT%H%M%SZ)
mkdir -p "$HERE/results"
out=$HERE/results/$date_utc.json
jq -s \
	--argjson host "$host" \
	--argjson rounds "$ROUNDS" --argjson runs "$RUNS" --argjson warmup "$WARMUP" \
	--argjson elapsed "$elapsed" \
	--arg date "$date_utc" \
	--argjson rss_berth "$(printf '%s\n' "${rss_berth[@]}" | jq -s .)" \
	--argjson rss_runc "$(printf '%s\n' "${rss_runc[@]}" | jq -s .)" '
	def median: sort | if length % 2 == 1 then .[length / 2 | floor]
		else (.[length / 2 - 1] + .[length / 2]) / 2 end;
	def stats: {n: length, mean: (add / length), median: median, min: min, max: max,
		stddev: ((add / length) as $m | (map((. - $m) * (. - $m)) | add) / (length - 1) | sqrt)};
	[.[].results[]] | group_by(.command)
	| map({key: .[0].command, value: ((map(.times) | add | stats)
		+ {user_mean: (map(.user) | add / length), system_mean: (map(.system) | add / length),
		   times: (map(.times) | add)})})
	| from_entries as $s
	| {date: $date, command: "make bench", host: $host,
	   method: {rounds: $rounds, runs_per_round: $runs, warmup: $warmup, elapsed_s: $elapsed},
	   results: $s,
	   ratios: (["run", "lifecycle"] | map({key: ., value: {
		runc_over_berth_mean: ($s["runc:" + .].mean / $s["berth:" + .].mean),
		runc_over_berth_median: ($s["runc:" + .].median / $s["berth:" + .].median),
		berth_over_floor_median: ($s["berth:" + .].median / $s["floor:unshare"].median)}})
		| from_entries),
	   rss_kb: {berth: {samples: $rss_berth, median: ($rss_berth | median)},
		runc: {samples: $rss_runc, median: ($rss_runc | median)},
		runc_over_berth: (($rss_runc | median) / ($rss_berth | median))}}
	' "$W"/round-*.json >"$out"

# --- the table ---
table=$(jq -r '
	def ms: . * 1000 | . * 100 | round / 100 | tostring;
	def r2: . * 100 | round / 100 | tostring;
	def cell($x): "\($x.mean | ms) ± \($x.stddev | ms) (\($x.median | ms))";
	.results as $s | .ratios as $r |
	"| scenario | berth-runtime ms: mean ± sd (median) | runc ms: mean ± sd (median) | runc/berth mean | runc/berth median |",
	"|---|---|---|---|---|",
	(["run", "lifecycle"][] as $k |
	 "| \(if $k == "run" then "`run` /bin/true" else "create+start+wait+delete" end) | \(cell($s["berth:" + $k])) | \(cell($s["runc:" + $k])) | **\($r[$k].runc_over_berth_mean | r2)** | **\($r[$k].runc_over_berth_median | r2)** |"),
	"| peak RSS of `run`, KiB (median of \(.rss_kb.berth.samples | length)) | \(.rss_kb.berth.median) | \(.rss_kb.runc.median) | **\(.rss_kb.runc_over_berth | r2)** | |",
	"",
	"| kernel floor (no runtime) | ms: mean ± sd (median) | berth `run` median / floor median | berth lifecycle median / floor median |",
	"|---|---|---|---|",
	(["unshare", "chroot"][] as $k |
	 "| \(if $k == "unshare" then "`unshare --fork` pid,mnt,uts,ipc,net,cgroup + /bin/true" else "`chroot rootfs /bin/true`" end) | \(cell($s["floor:" + $k])) | \($s["berth:run"].median / $s["floor:" + $k].median | r2)x | \($s["berth:lifecycle"].median / $s["floor:" + $k].median | r2)x |"),
	"",
	"Samples per command: \(.method.rounds) rounds x \(.method.runs_per_round) runs (after \(.method.warmup) warmup runs per round), \(.method.elapsed_s) s in all. Ratios above 1 mean berth-runtime is faster / smaller."
	' "$out")
host_md=$(jq -r '.host | "Host: kernel \(.kernel), cgroups \(.cgroup), \(.cpus) CPUs (\(.cpu)), \(.runc), berth-runtime \(.berth_runtime_commit), \(.hyperfine)."' "$out")
results_rel=${out#"$REPO"/}

echo
echo "$table"
echo
echo "$host_md"
echo "Raw results: $results_rel"

# --- docs/performance.md, between the markers ---
if ((update_doc)); then
	begin='<!-- bench:runtime:begin -->' end='<!-- bench:runtime:end -->'
	if grep -qF "$begin" "$DOC" 2>/dev/null && grep -qF "$end" "$DOC"; then
		block=$(printf '%s\n\n%s\n\n%s\n\nCommand: `make bench` (bench/runtime.sh). Raw results: `%s`.\n' \
			"Run of $date_utc (UTC)." "$table" "$host_md" "$results_rel")
		BLOCK=$block awk -v b="$begin" -v e="$end" '
			$0 == b { print; print ENVIRON["BLOCK"]; skip = 1; next }
			$0 == e { skip = 0 }
			!skip' "$DOC" >"$W/doc" && cat "$W/doc" >"$DOC"
		echo "updated ${DOC#"$REPO"/}"
	else
		echo "runtime.sh: $DOC has no $begin/$end markers; not updated" >&2
	fi
fi
