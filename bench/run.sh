#!/usr/bin/env bash
# Containers: `berth run` latency, `ps` with many containers and the monitor's memory per
# running container, berth beside Podman (conmon), in one run, as ratios.
#
#   bench/run.sh [--no-doc]        (or `make bench-run`; about 4-5 minutes)
#
# Builds (make build), starts the test registry if it is not running (scripts/registry.sh),
# puts the test kit's busybox image into it (go test -run TestSeed ./bench/pullbench, as
# bench/pull.sh does) and pulls 127.0.0.1:5000/bench/busybox:1 into a private berth root and a
# private Podman store (overlay, a private containers.conf: cgroupfs, events to a file,
# default_ulimits nofile=20000 and nproc=32768 as root here cannot raise hard limits). Both run
# every container with --network none (loopback only); Podman's go under the cgroup parent
# /berth/bench-run-<pid>. Then, timed by hyperfine --shell=none:
#   rm        `run --rm IMG true`: berth (berth-runtime) and podman (runc, via conmon), each
#             with its default runtime; then both on runc (berth --runtime runc) and both on
#             berth-runtime (podman --runtime bin/berth-runtime), to tell engine from runtime
#   cycle     `run -d IMG sleep 1000` then `rm -f` of it (podman: rm -f -t 0: SIGKILL at once,
#             as berth's rm -f), one `bench/run.sh --cycle TOOL` (a bash) per sample
#   create    `create IMG true`, PS_N times per tool (the containers that ps lists next)
#   ps        `ps -a` with PS_N created containers
#   rm-all    the removal of those PS_N containers, once: `berth rm` of all IDs, `podman rm -a`
# Memory: MEM_N `run -d IMG sleep 1000` per tool (berth's first, all removed, then Podman's);
# once all run (and 2 s later), /proc/<pid>/smaps_rollup of every monitor (berth-monitor from
# its monitor.pid, conmon from `podman inspect` .State.ConmonPid): mean RSS, PSS (shared pages
# divided among the processes that map them: the marginal memory of one more monitor) and USS
# (private); what each container's own memory cgroup is charged (its process, page cache,
# kernel objects); and MemAvailable (a median of 5 reads) before the first start and after the
# last, divided by MEM_N: everything one more container costs, noisy on a shared host. Where berth's time goes: BREAKDOWN_RUNS
# `berth run --rm` under `perf record` of the scheduler's exec/fork/exit tracepoints (no
# ptrace), each process of the tree with its start and end in ms from the CLI's exec.
#
# Fairness on a noisy host: ROUNDS hyperfine invocations per group, the command order reversed
# every other round, samples pooled per command. Ratios are podman/berth: above 1, berth is
# faster (or, for memory, smaller).
#
# Output: the tables on stdout, bench/results/run-<UTC date-time>.json (pooled stats, samples,
# memory, host) and .txt (tables, memory, breakdown), and the tables between the bench:run
# markers of docs/performance.md (unless --no-doc). Nothing is left behind: every container is
# removed, what stays mounted under the work dir is unmounted, processes whose command line
# names the work dir are killed by pid, the Podman cgroup parent is removed, and
# /var/lib/containers/cache, /run/runc and /run/berth-runtime go if this run created them.
#
# Environment: ROUNDS (default 2), RUNS (run --rm per command per round, 15), CYCLE_RUNS (10),
# PS_N (500), PS_RUNS (10), MEM_N (20), BREAKDOWN_RUNS (3), NO_BUILD=1 to use bin/ as it is,
# BERTH_BIN (the berth binary to time, default bin/berth; berth-monitor is found beside it),
# BERTH_COMMIT (as in bench/runtime.sh).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
SELF=$HERE/$(basename "$0")

# --cycle IMAGE ENGINE... -- RUNFLAGS...: one run -d + rm -f cycle, ENGINE being berth or podman
# with its global flags. Used as hyperfine's command.
if [[ ${1:-} == --cycle ]]; then
	image=$2
	shift 2
	engine=() run_flags=()
	while [[ $1 != -- ]]; do engine+=("$1"); shift; done
	shift
	run_flags=("$@")
	id=$("${engine[@]}" run -d "${run_flags[@]}" "$image" sleep 1000)
	rm_flags=(-f)
	[[ ${engine[0]} == podman ]] && rm_flags+=(-t 0) # berth's rm -f: SIGKILL at once; podman's: after -t
	"${engine[@]}" rm "${rm_flags[@]}" "$id" >/dev/null
	exit
fi

ROUNDS=${ROUNDS:-2}
RUNS=${RUNS:-15}
CYCLE_RUNS=${CYCLE_RUNS:-10}
PS_N=${PS_N:-500}
PS_RUNS=${PS_RUNS:-10}
MEM_N=${MEM_N:-20}
BREAKDOWN_RUNS=${BREAKDOWN_RUNS:-3}
BERTH_BIN=${BERTH_BIN:-$REPO/bin/berth}
DOC=$REPO/docs/performance.md
IMAGE=127.0.0.1:5000/bench/busybox:1

update_doc=1
for arg in "$@"; do
	case $arg in
	--no-doc) update_doc=0 ;;
	-h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "run.sh: unknown argument $arg" >&2; exit 2 ;;
	esac
done

die() { echo "run.sh: $*" >&2; exit 1; }
[[ $(id -u) == 0 ]] || die "must run as root"
for t in hyperfine jq podman conmon runc go curl; do
	command -v "$t" >/dev/null || die "$t not found (apt-get install -y $t)"
done
((PS_N % ROUNDS == 0)) || die "PS_N ($PS_N) must be a multiple of ROUNDS ($ROUNDS)"

if [[ -z ${NO_BUILD:-} ]]; then
	make -C "$REPO" --no-print-directory build >&2
fi
[[ -x $BERTH_BIN ]] || die "$BERTH_BIN not built (make build)"
BERTH_RUNTIME=$REPO/bin/berth-runtime
[[ -x $BERTH_RUNTIME ]] || die "$BERTH_RUNTIME not built (make build)"
[[ -x $(dirname "$BERTH_BIN")/berth-monitor ]] || die "no berth-monitor beside $BERTH_BIN"

# --- registry, image ---
registry_started=0
if ! "$REPO/scripts/registry.sh" status >/dev/null 2>&1; then
	"$REPO/scripts/registry.sh" start >&2
	registry_started=1
fi
(cd "$REPO" && BERTH_BENCH=1 BERTH_BIN_DIR=$REPO/bin go test -count=1 -run '^TestSeed$' ./bench/pullbench >&2) ||
	die "could not put the bench images into the registry"

# --- workspace, cleanup ---
W=$(mktemp -d /tmp/brun.XXXXXX) # short: conmon's attach socket lives under the runroot
CGP=/berth/bench-run-$$
made=()
for d in /var/lib/containers/cache /var/lib/containers /run/runc /run/berth-runtime; do
	[[ -e $d ]] || made+=("$d")
done

# Private copies of the binaries: a `make build` elsewhere during the run changes nothing here.
mkdir -p "$W/bin"
cp "$BERTH_BIN" "$W/bin/berth"
cp "$(dirname "$BERTH_BIN")/berth-monitor" "$BERTH_RUNTIME" "$W/bin/"
BERTH_RUNTIME=$W/bin/berth-runtime
B=("$W/bin/berth" --root "$W/b/root" --runroot "$W/b/run")
P=(podman --root "$W/p/storage" --runroot "$W/p/run" --tmpdir "$W/p/libpod"
	--network-config-dir "$W/p/net" --storage-driver overlay --cgroup-manager cgroupfs
	--events-backend file)
PF=(--network none --cgroup-parent "$CGP") # podman's run flags

# unmount_below DIR: whatever is mounted at or under DIR, deepest first (mountinfo's field 5,
# octal escapes).
unmount_below() {
	local dir=$1 m
	while read -r m; do
		umount "$m" 2>/dev/null || umount -l "$m" || true
	done < <(awk -v d="$dir" '{ p = $5; gsub(/\\040/, " ", p) }
		p == d || index(p, d "/") == 1 { print length(p) "\t" p }' /proc/self/mountinfo |
		sort -rn | cut -f2-)
}

# remove_all: every container of both tools (a failing tool leaves its work to the checks).
remove_all() {
	local ids
	ids=$("${B[@]}" ps -aq --no-trunc 2>/dev/null || true)
	if [[ -n $ids ]]; then
		# shellcheck disable=SC2086 # one ID per word
		"${B[@]}" rm -f $ids >/dev/null || true
	fi
	"${P[@]}" rm -af -t 0 >/dev/null 2>&1 || true
}

cleanup() {
	local rc=$? pid d c
	trap - EXIT INT TERM
	remove_all
	"${P[@]}" rmi -af >/dev/null 2>&1 || true
	# Processes started for this run (monitors, conmon, containers' processes) name the
	# work dir on their command line; kill what is left, by pid.
	for pid in $(grep -lsF "$W" /proc/[0-9]*/cmdline | cut -d/ -f3); do
		[[ $pid != "$$" ]] && kill -9 "$pid" 2>/dev/null && echo "run.sh: killed leftover $pid" >&2
	done
	unmount_below "$W"
	rm -rf "$W"
	# Podman's cgroupfs manager leaves conmon's cgroup (and the parent) behind.
	for d in /sys/fs/cgroup/*"$CGP"; do
		[[ -d $d && ! -L $(dirname "${d%"$CGP"}") ]] || continue
		for c in "$d"/*/; do [[ -d $c ]] && rmdir "$c" 2>/dev/null; done
		rmdir "$d" 2>/dev/null || echo "run.sh: cgroup $d not removed" >&2
	done
	rm -f /var/lib/containers/cache/blob-info-cache-v1.boltdb 2>/dev/null || true
	for d in "${made[@]}"; do rmdir "$d" 2>/dev/null || true; done
	if ((registry_started)); then "$REPO/scripts/registry.sh" stop >&2 || true; fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cat >"$W/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$W/podman-events.log"
EOF
mkdir -p "$W/tmp"
export CONTAINERS_CONF=$W/containers.conf TMPDIR=$W/tmp

"${B[@]}" pull -q "$IMAGE" >/dev/null
"${P[@]}" pull -q --tls-verify=false "$IMAGE" >/dev/null

# The timed commands, by name (group:tool).
b=${B[*]} p=${P[*]} pf=${PF[*]}
declare -A cmds=(
	[rm:berth]="$b run --rm --network none $IMAGE true"
	[rm:podman]="$p run --rm $pf $IMAGE true"
	[rm-runc:berth]="$b run --rm --network none --runtime runc $IMAGE true"
	[rm-runc:podman]="$p run --rm $pf --runtime $(command -v runc) $IMAGE true"
	[rm-brt:berth]="$b run --rm --network none $IMAGE true"
	[rm-brt:podman]="$p run --rm $pf --runtime $BERTH_RUNTIME $IMAGE true"
	[cycle:berth]="$SELF --cycle $IMAGE $b -- --network none"
	[cycle:podman]="$SELF --cycle $IMAGE $p -- $pf"
	[create:berth]="$b create --network none $IMAGE true"
	[create:podman]="$p create $pf $IMAGE true"
	[ps:berth]="$b ps -a"
	[ps:podman]="$p ps -a"
)

# Every run command once, untimed: it must work.
for n in rm:berth rm:podman rm-runc:berth rm-runc:podman rm-brt:podman cycle:berth cycle:podman; do
	${cmds[$n]} >/dev/null || die "$n failed: ${cmds[$n]}"
done
[[ -z $("${B[@]}" ps -aq) && -z $("${P[@]}" ps -aq) ]] || die "containers left after the first runs"

# round GROUP RUNS WARMUP NAMES...: ROUNDS hyperfine invocations, the order reversed every
# other round; the JSON of round r goes to $W/GROUP-round-r.json.
round() {
	local group=$1 runs=$2 warmup=$3 r i n
	shift 3
	local names=("$@") order args
	for ((r = 1; r <= ROUNDS; r++)); do
		order=("${names[@]}")
		if ((r % 2 == 0)); then
			order=()
			for ((i = ${#names[@]} - 1; i >= 0; i--)); do order+=("${names[i]}"); done
		fi
		args=()
		for n in "${order[@]}"; do args+=(-n "$n" "${cmds[$n]}"); done
		echo "--- $group round $r/$ROUNDS: ${#order[@]} commands x $runs runs (+$warmup warmup) ---" >&2
		hyperfine --shell=none --style basic --warmup "$warmup" --runs "$runs" \
			--export-json "$W/$group-round-$r.json" "${args[@]}" >&2
	done
}

start_s=$SECONDS
round rm "$RUNS" 2 rm:berth rm:podman
round rm-runc "$RUNS" 2 rm-runc:berth rm-runc:podman
round rm-brt "$RUNS" 2 rm-brt:berth rm-brt:podman
round cycle "$CYCLE_RUNS" 1 cycle:berth cycle:podman
round create $((PS_N / ROUNDS)) 0 create:berth create:podman
nb=$("${B[@]}" ps -aq | wc -l) np=$("${P[@]}" ps -aq | wc -l)
[[ $nb == "$PS_N" && $np == "$PS_N" ]] || die "after create: berth has $nb containers, podman $np; want $PS_N"
round ps "$PS_RUNS" 1 ps:berth ps:podman

echo "--- rm-all: removing $PS_N containers per tool ---" >&2
t=$(date +%s%N)
# shellcheck disable=SC2046 # one ID per word
"${B[@]}" rm $("${B[@]}" ps -aq --no-trunc) >/dev/null
rm_all_berth=$((($(date +%s%N) - t) / 1000000))
t=$(date +%s%N)
"${P[@]}" rm -a >/dev/null
rm_all_podman=$((($(date +%s%N) - t) / 1000000))
elapsed=$((SECONDS - start_s))

# --- memory: MEM_N sleeping containers per tool ---
# mem_available: MemAvailable (KiB), the median of 5 reads 0.2 s apart.
mem_available() {
	local i
	for ((i = 0; i < 5; i++)); do
		awk '/^MemAvailable:/ { print $2 }' /proc/meminfo
		sleep 0.2
	done | sort -n | sed -n 3p
}
# rollup PID...: a JSON array of {pid, rss, pss, uss} (KiB) from smaps_rollup.
rollup() {
	local pid
	for pid in "$@"; do
		awk -v pid="$pid" '/^Rss:/ { r = $2 } /^Pss:/ { p = $2 }
			/^Private_Clean:/ { u += $2 } /^Private_Dirty:/ { u += $2 }
			END { printf "{\"pid\": %d, \"rss\": %d, \"pss\": %d, \"uss\": %d}\n", pid, r, p, u }' \
			"/proc/$pid/smaps_rollup"
	done | jq -s .
}
# cgroup_mem PID: the memory charged to process PID's cgroup (KiB): memory.usage_in_bytes of
# its v1 memory cgroup, or memory.current of its v2 cgroup.
cgroup_mem() {
	local p
	if p=$(awk -F: '$2 == "memory" { print $3 }' "/proc/$1/cgroup") && [[ -n $p ]]; then
		echo $(($(cat "/sys/fs/cgroup/memory$p/memory.usage_in_bytes") / 1024))
	else
		p=$(awk -F: '$1 == "0" { print $3 }' "/proc/$1/cgroup")
		echo $(($(cat "/sys/fs/cgroup$p/memory.current") / 1024))
	fi
}
# memory TOOL: start MEM_N containers, measure, remove them; prints a JSON object.
memory() {
	local tool=$1 i before after pids=() ids=() cg=() id engine
	if [[ $tool == berth ]]; then engine=("${B[@]}"); else engine=("${P[@]}"); fi
	sleep 2
	before=$(mem_available)
	for ((i = 0; i < MEM_N; i++)); do
		if [[ $tool == berth ]]; then
			id=$("${B[@]}" run -d --network none "$IMAGE" sleep 1000)
		else
			id=$("${P[@]}" run -d "${PF[@]}" "$IMAGE" sleep 1000)
		fi
		ids+=("$id")
	done
	sleep 2
	after=$(mem_available)
	for id in "${ids[@]}"; do
		if [[ $tool == berth ]]; then
			pids+=("$(cat "$W/b/run/containers/$id/monitor.pid")")
		else
			pids+=("$("${P[@]}" inspect --format '{{.State.ConmonPid}}' "$id")")
		fi
		cg+=("$(cgroup_mem "$("${engine[@]}" inspect --format '{{.State.Pid}}' "$id")")")
	done
	local procs
	procs=$(rollup "${pids[@]}")
	if [[ $tool == berth ]]; then
		"${B[@]}" rm -f "${ids[@]}" >/dev/null
	else
		"${P[@]}" rm -f -t 0 "${ids[@]}" >/dev/null
	fi
	jq -n --argjson procs "$procs" --argjson before "$before" --argjson after "$after" \
		--argjson cg "$(printf '%s\n' "${cg[@]}" | jq -s .)" --argjson n "$MEM_N" \
		'{n: $n, mem_available_before_kib: $before, mem_available_after_kib: $after,
		mem_available_delta_per_container_kib: (($before - $after) / $n),
		rss_mean_kib: ($procs | map(.rss) | add / length), pss_mean_kib: ($procs | map(.pss) | add / length),
		uss_mean_kib: ($procs | map(.uss) | add / length), procs: $procs,
		container_cgroup_mean_kib: ($cg | add / length), container_cgroup_kib: $cg}'
}
echo "--- memory: $MEM_N sleeping containers, berth then podman ---" >&2
mem_berth=$(memory berth)
mem_podman=$(memory podman)

# --- where berth's run --rm goes: the process tree under perf's scheduler tracepoints ---
breakdown=""
if command -v perf >/dev/null; then
	echo "--- breakdown: $BREAKDOWN_RUNS berth run --rm under perf sched tracepoints ---" >&2
	for ((i = 1; i <= BREAKDOWN_RUNS; i++)); do
		perf record -q -o "$W/perf.data" -a \
			-e sched:sched_process_exec,sched:sched_process_fork,sched:sched_process_exit \
			-- ${cmds[rm:berth]} >/dev/null 2>&1 || die "perf record failed"
		breakdown+="run $i:"$'\n'
		breakdown+=$(perf script -i "$W/perf.data" -F pid,time,event,trace 2>/dev/null | awk -v cli="$W/bin/berth" '
			# Field 1 is the process (thread group) of the event; the tree starts at the
			# exec of the CLI (perf records the whole host). fork: the child joins the
			# tree of its parent; exec: a process of the tree names itself; exit (the last
			# thread: group_dead): it ends. Offsets in ms from the CLI'"'"'s exec.
			function ms(t) { return sprintf("%7.1f", (t - t0) * 1000) }
			{ t = $2; sub(/:$/, "", t) }
			/sched_process_exec/ && !root && index($0, "filename=" cli " ") { root = $1; t0 = t; tree[$1] = 1 }
			!root { next }
			/sched_process_fork/ {
				match($0, /child_pid=[0-9]+/); cp = substr($0, RSTART + 10, RLENGTH - 10)
				if ($1 in tree) tree[cp] = 1
				next
			}
			/sched_process_exec/ && ($1 in tree) {
				match($0, /filename=[^ ]+/); f = substr($0, RSTART + 9, RLENGTH - 9)
				sub(/.*\//, "", f); if (f ~ /^[0-9]+$/) f = "berth-runtime init (/proc/self/fd/" f ")"
				if ($1 in cur) end[cur[$1]] = t # an exec ends the image before it
				cur[$1] = ++n; name[n] = f; start[n] = t
				next
			}
			/sched_process_exit/ && /group_dead=true/ && ($1 in cur) { end[cur[$1]] = t; delete cur[$1] }
			END {
				for (i = 1; i <= n; i++)
					printf "  %s .. %s ms  %s\n", ms(start[i]), (i in end) ? ms(end[i]) : "  (later)", name[i]
			}')
		breakdown+=$'\n'
	done
fi

# --- host ---
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
	--arg cpus "$(nproc)" \
	--arg cpu "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)" \
	--arg fs "$(findmnt -no FSTYPE -T "$W") on $(findmnt -no SOURCE -T "$W")" \
	--arg podman "$(podman --version)" \
	--arg conmon "$(conmon --version | head -1)" \
	--arg runc "$(runc --version | head -1)" \
	--arg berth "$commit" \
	--arg hyperfine "$(hyperfine --version)" \
	--arg load "$(cut -d' ' -f1-3 /proc/loadavg)" \
	'{kernel: $kernel, cpus: ($cpus | tonumber), cpu: $cpu, fs: $fs, podman: $podman, conmon: $conmon,
	  runc: $runc, berth_commit: $berth, hyperfine: $hyperfine, loadavg_at_end: $load}')

# --- pool the rounds, compute stats and ratios ---
date_utc=$(date -u +%Y-%m-%dT%H%M%SZ)
mkdir -p "$HERE/results"
out=$HERE/results/run-$date_utc.json
jq -s \
	--argjson host "$host" \
	--argjson rounds "$ROUNDS" --argjson runs "$RUNS" --argjson cycle_runs "$CYCLE_RUNS" \
	--argjson ps_n "$PS_N" --argjson ps_runs "$PS_RUNS" --argjson elapsed "$elapsed" \
	--argjson rm_all_berth "$rm_all_berth" --argjson rm_all_podman "$rm_all_podman" \
	--argjson mem_berth "$mem_berth" --argjson mem_podman "$mem_podman" \
	--arg date "$date_utc" '
	def median: sort | if length % 2 == 1 then .[length / 2 | floor]
		else (.[length / 2 - 1] + .[length / 2]) / 2 end;
	def stats: {n: length, mean: (add / length), median: median, min: min, max: max,
		stddev: (if length < 2 then 0 else
			(add / length) as $m | (map((. - $m) * (. - $m)) | add) / (length - 1) | sqrt end)};
	[.[].results[]] | group_by(.command)
	| map({key: .[0].command, value: ((map(.times) | add | stats)
		+ {user_mean: (map(.user) | add / length), system_mean: (map(.system) | add / length),
		   times: (map(.times) | add)})})
	| from_entries as $s
	| def ratio($g): {mean: ($s[$g + ":podman"].mean / $s[$g + ":berth"].mean),
		median: ($s[$g + ":podman"].median / $s[$g + ":berth"].median)};
	{date: $date, command: "bench/run.sh", host: $host,
	 method: {rounds: $rounds, runs_per_round: $runs, cycle_runs_per_round: $cycle_runs,
		ps_n: $ps_n, ps_runs_per_round: $ps_runs, elapsed_s: $elapsed},
	 results: $s,
	 ratios: (["rm", "rm-runc", "rm-brt", "cycle", "create", "ps"] | map({key: ., value: ratio(.)}) | from_entries),
	 rm_all_ms: {berth: $rm_all_berth, podman: $rm_all_podman},
	 memory: {berth: $mem_berth, podman: $mem_podman,
		ratio_pss: ($mem_berth.pss_mean_kib / $mem_podman.pss_mean_kib),
		ratio_uss: ($mem_berth.uss_mean_kib / $mem_podman.uss_mean_kib)}}
	' "$W"/*-round-*.json >"$out"

# --- the tables ---
table=$(jq -r '
	def ms: . * 1000 | if . >= 100 then round else . * 10 | round / 10 end | tostring;
	def r2: . * 100 | round / 100 | tostring;
	def cell($x): "\($x.mean | ms) ± \($x.stddev | ms) (\($x.median | ms))";
	.results as $s | .ratios as $r |
	"| scenario | berth ms: mean ± sd (median) | podman ms: mean ± sd (median) | podman/berth mean | podman/berth median |",
	"|---|---|---|---|---|",
	(["rm", "rm-runc", "rm-brt", "cycle", "create", "ps"][] as $g |
	 "| \({"rm": "`run --rm IMG true`, each with its default runtime (berth-runtime; runc)",
		"rm-runc": "`run --rm IMG true`, both on runc",
		"rm-brt": "`run --rm IMG true`, both on berth-runtime",
		"cycle": "`run -d IMG sleep 1000` + `rm -f` (a bash per cycle)",
		"create": "`create IMG true` (\(.method.ps_n) per tool: 1st to \(.method.ps_n)th)",
		"ps": "`ps -a` with \(.method.ps_n) created containers"}[$g]) | \(cell($s[$g + ":berth"])) | \(cell($s[$g + ":podman"])) | **\($r[$g].mean | r2)** | **\($r[$g].median | r2)** |"),
	"",
	"Samples per command: \(.method.rounds) rounds x \(.method.runs_per_round) runs of `run --rm` (after 2 warmups each), x \(.method.cycle_runs_per_round) cycles, x \(.method.ps_n / .method.rounds) creates, x \(.method.ps_runs_per_round) `ps -a`; \(.method.elapsed_s) s in all. Ratios above 1 mean berth is faster. Creates, mean of the first 50 → the last 50: berth \($s["create:berth"].times[:50] | add / length | ms) → \($s["create:berth"].times[-50:] | add / length | ms) ms, podman \($s["create:podman"].times[:50] | add / length | ms) → \($s["create:podman"].times[-50:] | add / length | ms) ms. Removing the \(.method.ps_n) created containers, once: `berth rm` of all IDs \(.rm_all_ms.berth) ms, `podman rm -a` \(.rm_all_ms.podman) ms."
	' "$out")
memtable=$(jq -r '
	def k: round | tostring;
	.memory as $m |
	"| monitor (\($m.berth.n) sleeping containers each) | RSS KiB | PSS KiB | USS KiB | container cgroup KiB | MemAvailable drop per container, KiB |",
	"|---|---|---|---|---|---|",
	"| berth-monitor | \($m.berth.rss_mean_kib | k) | \($m.berth.pss_mean_kib | k) | \($m.berth.uss_mean_kib | k) | \($m.berth.container_cgroup_mean_kib | k) | \($m.berth.mem_available_delta_per_container_kib | k) |",
	"| conmon (Podman) | \($m.podman.rss_mean_kib | k) | \($m.podman.pss_mean_kib | k) | \($m.podman.uss_mean_kib | k) | \($m.podman.container_cgroup_mean_kib | k) | \($m.podman.mem_available_delta_per_container_kib | k) |",
	"",
	"Means per container. berth-monitor/conmon: PSS \($m.ratio_pss * 100 | round / 100), USS \($m.ratio_uss * 100 | round / 100) (above 1: berth-monitor uses more). Container cgroup: what the container\u0027s own cgroup is charged (its `sleep`, its page cache and kernel objects; berth-runtime vs runc). The MemAvailable drop (median of 5 reads before the first start and after the last, over \($m.berth.n)) is everything (monitor, container, kernel objects, page cache of the files written) and on a shared host it moves by tens of MiB between reads with the other work there, which swamps a container\u0027s share: read it only on a quiet machine."
	' "$out")
host_md=$(jq -r '.host | "Host: kernel \(.kernel), \(.cpus) CPUs (\(.cpu)), \(.fs), \(.podman), \(.conmon), \(.runc), berth \(.berth_commit), \(.hyperfine), load average \(.loadavg_at_end) at the end."' "$out")
results_rel=${out#"$REPO"/}
txt=${out%.json}.txt
{
	echo "bench/run.sh, run of $date_utc (UTC)"
	echo
	echo "$table"
	echo
	echo "$memtable"
	echo
	echo "$host_md"
	if [[ -n $breakdown ]]; then
		echo
		echo "Where \`berth run --rm $IMAGE true\` goes: each process of its tree, from its exec to"
		echo "its exit, in ms from the CLI's exec (perf record of sched_process_exec/fork/exit):"
		echo
		echo "$breakdown"
	fi
} >"$txt"

echo
cat "$txt"
echo "Raw results: $results_rel, ${txt#"$REPO"/}"

# --- docs/performance.md, between the markers ---
if ((update_doc)); then
	begin='<!-- bench:run:begin -->' end='<!-- bench:run:end -->'
	if grep -qF "$begin" "$DOC" 2>/dev/null && grep -qF "$end" "$DOC"; then
		block=$(printf '%s\n\n%s\n\n%s\n\n%s\n\nCommand: `make bench-run` (bench/run.sh). Raw results: `%s`, breakdown in `%s`.\n' \
			"Run of $date_utc (UTC)." "$table" "$memtable" "$host_md" "$results_rel" "${txt#"$REPO"/}")
		BLOCK=$block awk -v b="$begin" -v e="$end" '
			$0 == b { print; print ENVIRON["BLOCK"]; skip = 1; next }
			$0 == e { skip = 0 }
			!skip' "$DOC" >"$W/doc" && cat "$W/doc" >"$DOC"
		echo "updated ${DOC#"$REPO"/}"
	else
		echo "run.sh: $DOC has no $begin/$end markers; not updated" >&2
	fi
fi
