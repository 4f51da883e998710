#!/usr/bin/env bash
# Container lifecycle latency and peak RSS: berth-runtime beside runc, in one run, as ratios.
#
#   bench/runtime.sh [--no-doc]        (normally via `make bench`, which builds first)
#
# One rootfs (busybox-static) and bundles that both runtimes share, from `berth-runtime spec` with
# terminal false and cgroupsPath /berth/bench-<pid>: `bundle` (args /bin/true, the seccomp
# section removed, as the numbers before the spec had one), `bundle-seccomp` (the same with the
# spec's seccomp section, Docker's default profile) and, per runtime, a long-running container
# (`sleep` with the spec's seccomp, in its own cgroup /berth/bench-<pid>-exec-<rt>), created and
# started once, deleted at the end. Each runtime gets a private --root in a temp dir. Scenarios,
# all timed by hyperfine --shell=none:
#   run                `<rt> run` of /bin/true: foreground, waits, deletes itself
#   lifecycle          bench/lifecycle.sh: create; start; wait for the pid to exit; delete
#   lifecycle-seccomp  the same with bundle-seccomp
#   exec               `<rt> exec <id> /bin/true` into the runtime's own sleeping container
#   floor              what the kernel needs without any runtime: `unshare` of the container's six
#                      namespaces running /bin/true, a plain `chroot rootfs /bin/true`, and
#                      `nsenter` into berth's sleeping container's namespaces running /bin/true
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
# Environment: ROUNDS (default 6), RUNS (per command per round, default 80), WARMUP (5),
# RSS_SAMPLES (9), RUNC (runc), BERTH ($REPO/bin/berth-runtime), BERTH_COMMIT (the label of the
# binary in the host line; default the repository's HEAD, marked when cmd/ or internal/ differ
# from it: set it when BERTH was built elsewhere, e.g. from a clean `git archive` of a commit).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
ROUNDS=${ROUNDS:-6}
RUNS=${RUNS:-80}
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
for t in hyperfine jq unshare chroot nsenter; do command -v "$t" >/dev/null || die "$t not found"; done
[[ -x /usr/bin/time ]] || die "GNU time not found (apt-get install -y time)"
[[ -x $BERTH ]] || die "$BERTH not built (make build)"
[[ -n $RUNC && -x $RUNC ]] || die "runc not found"
BUSYBOX=$(command -v busybox) || die "busybox not found (busybox-static)"
file -L "$BUSYBOX" 2>/dev/null | grep -q 'statically linked' || die "$BUSYBOX is not static"

# --- workspace, cgroups, cleanup ---
W=$(mktemp -d /tmp/berth-bench.XXXXXX)
BUNDLE=$W/bundle
BUNDLE_SECCOMP=$W/bundle-seccomp
ROOT_BERTH=$W/root-berth
ROOT_RUNC=$W/root-runc
FIFO=$W/sleep.fifo
CG_REL=berth/bench-$$
CG_RELS=("$CG_REL" "$CG_REL-exec-berth" "$CG_REL-exec-runc")
mkdir -p "$BUNDLE/rootfs/bin" "$BUNDLE_SECCOMP" "$W/exec-berth" "$W/exec-runc" "$ROOT_BERTH" "$ROOT_RUNC"
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
	local rc=$? rt root id h p rel
	for rt in "$BERTH:$ROOT_BERTH" "$RUNC:$ROOT_RUNC"; do
		root=${rt#*:}
		for id in $("${rt%%:*}" --root "$root" list -q 2>/dev/null); do
			"${rt%%:*}" --root "$root" delete --force "$id" >/dev/null 2>&1 || true
		done
	done
	for h in "${hierarchies[@]}"; do
		for rel in "${CG_RELS[@]}"; do
			[[ -d $h/$rel ]] || continue
			if [[ -f $h/$rel/cgroup.procs ]]; then
				while read -r p; do kill -9 "$p" 2>/dev/null || true; done <"$h/$rel/cgroup.procs"
			fi
			rmdir "$h/$rel" 2>/dev/null || { sleep 0.2; rmdir "$h/$rel" 2>/dev/null; } ||
				echo "runtime.sh: could not remove $h/$rel" >&2
		done
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
ln -s busybox "$BUNDLE/rootfs/bin/sleep"
"$BERTH" spec --bundle "$W"
jq -e '.linux.seccomp.defaultAction == "SCMP_ACT_ERRNO" and (.linux.seccomp.syscalls | length > 0)' \
	"$W/config.json" >/dev/null || die "berth-runtime spec wrote no default seccomp profile"
# The bundles share one rootfs by absolute path (OCI: root.path may be absolute).
jq --arg cg "/$CG_REL" '.process.terminal = false | .process.args = ["/bin/true"]
	| .linux.cgroupsPath = $cg | del(.linux.seccomp)' "$W/config.json" >"$BUNDLE/config.json"
jq --arg cg "/$CG_REL" --arg root "$BUNDLE/rootfs" '.process.terminal = false
	| .process.args = ["/bin/true"] | .root.path = $root
	| .linux.cgroupsPath = $cg' "$W/config.json" >"$BUNDLE_SECCOMP/config.json"
for rt in berth runc; do
	jq --arg cg "/$CG_REL-exec-$rt" --arg root "$BUNDLE/rootfs" '.process.terminal = false
		| .process.args = ["/bin/sleep", "1000000"] | .root.path = $root
		| .linux.cgroupsPath = $cg' "$W/config.json" >"$W/exec-$rt/config.json"
done
rm "$W/config.json"

# --- the long-running containers for exec ---
EXEC_ID=bench-exec
"$BERTH" --root "$ROOT_BERTH" create --bundle "$W/exec-berth" --pid-file "$W/exec-berth.pid" "$EXEC_ID"
"$BERTH" --root "$ROOT_BERTH" start "$EXEC_ID"
"$RUNC" --root "$ROOT_RUNC" create --bundle "$W/exec-runc" --pid-file "$W/exec-runc.pid" "$EXEC_ID"
"$RUNC" --root "$ROOT_RUNC" start "$EXEC_ID"
read -r exec_pid_berth <"$W/exec-berth.pid" || [[ -n ${exec_pid_berth:-} ]]
for rt in "$BERTH:$ROOT_BERTH" "$RUNC:$ROOT_RUNC"; do
	"${rt%%:*}" --root "${rt#*:}" exec "$EXEC_ID" /bin/true || die "${rt%%:*} exec failed"
done

# --- latency: ROUNDS interleaved hyperfine runs ---
names=(berth:run runc:run berth:lifecycle runc:lifecycle berth:lifecycle-seccomp runc:lifecycle-seccomp
	berth:exec runc:exec floor:unshare floor:chroot floor:nsenter)
declare -A cmds=(
	[berth:run]="$BERTH --root $ROOT_BERTH run --bundle $BUNDLE bench-run"
	[runc:run]="$RUNC --root $ROOT_RUNC run --bundle $BUNDLE bench-run"
	[berth:lifecycle]="$HERE/lifecycle.sh $BERTH $ROOT_BERTH $BUNDLE $FIFO"
	[runc:lifecycle]="$HERE/lifecycle.sh $RUNC $ROOT_RUNC $BUNDLE $FIFO"
	[floor:unshare]="unshare --fork --pid --mount --uts --ipc --net --cgroup /bin/true"
	[berth:lifecycle-seccomp]="$HERE/lifecycle.sh $BERTH $ROOT_BERTH $BUNDLE_SECCOMP $FIFO"
	[runc:lifecycle-seccomp]="$HERE/lifecycle.sh $RUNC $ROOT_RUNC $BUNDLE_SECCOMP $FIFO"
	[berth:exec]="$BERTH --root $ROOT_BERTH exec $EXEC_ID /bin/true"
	[runc:exec]="$RUNC --root $ROOT_RUNC exec $EXEC_ID /bin/true"
	[floor:chroot]="chroot $BUNDLE/rootfs /bin/true"
	[floor:nsenter]="nsenter --target $exec_pid_berth --pid --mount --uts --ipc --net --cgroup --root --wd /bin/true"
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
for rt in "$BERTH:$ROOT_BERTH" "$RUNC:$ROOT_RUNC"; do
	"${rt%%:*}" --root "${rt#*:}" delete --force "$EXEC_ID" || die "${rt%%:*} delete --force $EXEC_ID failed"
done

# --- host ---
cgroup_mode=v1
if [[ $(stat -fc %T "$CG") == cgroup2fs ]]; then
	cgroup_mode=v2
elif grep -q ' /sys/fs/cgroup/unified cgroup2 ' /proc/mounts; then
	cgroup_mode="hybrid (v1 controllers + v2 at /sys/fs/cgroup/unified)"
fi
if [[ -n ${BERTH_COMMIT:-} ]]; then
	commit=$BERTH_COMMIT
else
	commit=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)
	git -C "$REPO" diff --quiet HEAD -- cmd internal 2>/dev/null || commit="$commit (+ uncommitted changes)"
	[[ -z $(git -C "$REPO" ls-files --others --exclude-standard -- cmd internal 2>/dev/null) ]] ||
		commit="$commit (+ untracked files)"
fi
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
	   ratios: (["run", "lifecycle", "lifecycle-seccomp", "exec"] | map({key: ., value: {
		runc_over_berth_mean: ($s["runc:" + .].mean / $s["berth:" + .].mean),
		runc_over_berth_median: ($s["runc:" + .].median / $s["berth:" + .].median),
		berth_over_floor_median: ($s["berth:" + .].median
			/ $s[if . == "exec" then "floor:nsenter" else "floor:unshare" end].median)}})
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
	(["run", "lifecycle", "lifecycle-seccomp", "exec"][] as $k |
	 "| \({"run": "`run` /bin/true, no seccomp", "lifecycle": "create+start+wait+delete, no seccomp",
		"lifecycle-seccomp": "create+start+wait+delete, Docker default seccomp",
		"exec": "`exec <id> /bin/true` (container with Docker default seccomp)"}[$k]) | \(cell($s["berth:" + $k])) | \(cell($s["runc:" + $k])) | **\($r[$k].runc_over_berth_mean | r2)** | **\($r[$k].runc_over_berth_median | r2)** |"),
	"| peak RSS of `run`, KiB (median of \(.rss_kb.berth.samples | length)) | \(.rss_kb.berth.median) | \(.rss_kb.runc.median) | **\(.rss_kb.runc_over_berth | r2)** | |",
	"",
	"| kernel floor (no runtime) | ms: mean ± sd (median) | berth `run` median / floor median | berth lifecycle median / floor median | berth exec median / floor median |",
	"|---|---|---|---|---|",
	(["unshare", "chroot", "nsenter"][] as $k |
	 "| \({"unshare": "`unshare --fork` pid,mnt,uts,ipc,net,cgroup + /bin/true", "chroot": "`chroot rootfs /bin/true`",
		"nsenter": "`nsenter` into the namespaces and root of the container + /bin/true"}[$k]) | \(cell($s["floor:" + $k])) | \($s["berth:run"].median / $s["floor:" + $k].median | r2)x | \($s["berth:lifecycle"].median / $s["floor:" + $k].median | r2)x | \($s["berth:exec"].median / $s["floor:" + $k].median | r2)x |"),
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
