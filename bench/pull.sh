#!/usr/bin/env bash
# Image pull time: berth beside Podman and skopeo, in one run, as ratios.
#
#   bench/pull.sh [--no-doc]        (or `make bench-pull`; about 3-4 minutes)
#
# Builds (make build), starts the test registry if it is not running (scripts/registry.sh) and
# puts the test kit's images into it (go test -run TestSeed ./bench/pullbench):
# 127.0.0.1:5000/bench/big:1 (kit.BigImage: 6 layers, 125 MB of gzip, zstd and plain blobs,
# ~5,400 tar entries) and 127.0.0.1:5000/bench/busybox:1 (one layer, 3 MB). Then, timed by
# hyperfine --shell=none:
#   cold     each pull into a store emptied before every run (--prepare): download, verify, unpack
#              berth     berth --root R --runroot RR pull -q IMAGE            (overlay snapshots)
#              podman    podman --root R --runroot RR --storage-driver overlay pull -q IMAGE
#              skopeo-cs skopeo copy docker://IMAGE containers-storage:[overlay@R+RR]IMAGE
#                        (containers/image into containers/storage: Podman's pull without Podman)
#              skopeo-oci skopeo copy docker://IMAGE oci:DIR (download and verify, no unpack:
#                        a floor for the transfer)
#            for the big image, and berth and podman for busybox
#   warm     berth and podman pulling the big image again into a store that holds it: every
#            layer cached; each still asks the registry for the manifest
# Fairness on a noisy host: ROUNDS hyperfine invocations per group, the command order reversed
# every other round, samples pooled per command. Then TestBreakdown (bench/pullbench) pulls the
# big image BREAKDOWN_RUNS times through internal/engine and prints when each layer was
# fetched, applied and committed.
#
# Podman gets a private containers.conf (cgroupfs, events to a file) and TMPDIR in the work
# dir; it and skopeo write containers/image's blob-info cache to /var/lib/containers/cache
# (a fixed path for root), which is removed at the end if this run created it.
#
# Output: the tables on stdout, bench/results/pull-<UTC date-time>.json (pooled stats, samples,
# host) and .txt (tables and breakdown), and the tables between the bench:pull markers of
# docs/performance.md (unless --no-doc). Nothing is left behind: the trap unmounts whatever is
# mounted under the work dir (containers/storage leaves a bind of its overlay dir) and removes
# it; a registry this script started is stopped.
#
# Environment: ROUNDS (default 2), RUNS (cold runs per command per round, default 3),
# WARM_RUNS (10), BREAKDOWN_RUNS (3), NO_BUILD=1 to use bin/ as it is, BERTH_COMMIT (as in
# bench/runtime.sh).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
SELF=$HERE/$(basename "$0")

# fresh DIR: DIR empty, with nothing mounted at or under it. Used as hyperfine's --prepare
# (bench/pull.sh --fresh DIR) and by the cleanup.
fresh() {
	local dir=$1 m
	[[ $dir == /* && $dir != / ]] || { echo "pull.sh: fresh: bad dir $dir" >&2; return 1; }
	# Deepest first: mount points under dir, as /proc/self/mountinfo's field 5 (octal escapes).
	while read -r m; do
		umount "$m" || umount -l "$m"
	done < <(awk -v d="$dir" '{ p = $5; gsub(/\\040/, " ", p) }
		p == d || index(p, d "/") == 1 { print length(p) "\t" p }' /proc/self/mountinfo |
		sort -rn | cut -f2-)
	rm -rf "$dir"
	mkdir -p "$dir"
}

if [[ ${1:-} == --fresh ]]; then
	fresh "$2"
	exit
fi

ROUNDS=${ROUNDS:-2}
RUNS=${RUNS:-3}
WARM_RUNS=${WARM_RUNS:-10}
BREAKDOWN_RUNS=${BREAKDOWN_RUNS:-3}
BERTH=$REPO/bin/berth
DOC=$REPO/docs/performance.md
BIG=127.0.0.1:5000/bench/big:1
BUSYBOX=127.0.0.1:5000/bench/busybox:1

update_doc=1
for arg in "$@"; do
	case $arg in
	--no-doc) update_doc=0 ;;
	-h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "pull.sh: unknown argument $arg" >&2; exit 2 ;;
	esac
done

die() { echo "pull.sh: $*" >&2; exit 1; }
[[ $(id -u) == 0 ]] || die "must run as root"
for t in hyperfine jq podman skopeo go curl; do
	command -v "$t" >/dev/null || die "$t not found (apt-get install -y $t)"
done

if [[ -z ${NO_BUILD:-} ]]; then
	make -C "$REPO" --no-print-directory build >&2
fi
[[ -x $BERTH ]] || die "$BERTH not built (make build)"

# --- registry, images ---
registry_started=0
if ! "$REPO/scripts/registry.sh" status >/dev/null 2>&1; then
	"$REPO/scripts/registry.sh" start >&2
	registry_started=1
fi
(cd "$REPO" && BERTH_BENCH=1 BERTH_BIN_DIR=$REPO/bin go test -count=1 -run '^TestSeed$' ./bench/pullbench >&2) ||
	die "could not put the bench images into the registry"

# --- workspace, cleanup ---
W=$(mktemp -d /tmp/bpull.XXXXXX) # short: podman wants a runroot under 50 characters
cache_dirs=(/var/lib/containers/cache /var/lib/containers)
cache_made=()
for d in "${cache_dirs[@]}"; do [[ -e $d ]] || cache_made+=("$d"); done

cleanup() {
	local rc=$? d
	fresh "$W" && rm -rf "$W"
	if ((${#cache_made[@]})); then
		rm -f /var/lib/containers/cache/blob-info-cache-v1.boltdb
		for d in "${cache_made[@]}"; do rmdir "$d" 2>/dev/null || true; done
	fi
	if ((registry_started)); then "$REPO/scripts/registry.sh" stop >&2 || true; fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cat >"$W/containers.conf" <<EOF
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$W/podman-events.log"
EOF
mkdir -p "$W/tmp"
export CONTAINERS_CONF=$W/containers.conf TMPDIR=$W/tmp

# The commands, each with a store of its own: cold ones under $W/cold-<name> (emptied before
# every run), warm ones under $W/warm-<name> (filled once, below).
berth() { echo "$BERTH --root $1/root --runroot $1/run pull -q $2"; }
podman_pull() {
	echo "podman --root $1/storage --runroot $1/run --tmpdir $1/libpod --storage-driver overlay" \
		"--cgroup-manager cgroupfs --events-backend file pull -q --tls-verify=false $2"
}
declare -A cmds=(
	[cold:berth]="$(berth "$W/cold-berth" "$BIG")"
	[cold:podman]="$(podman_pull "$W/cold-podman" "$BIG")"
	[cold:skopeo-cs]="skopeo copy -q --src-tls-verify=false docker://$BIG containers-storage:[overlay@$W/cold-skopeo-cs/storage+$W/cold-skopeo-cs/run]$BIG"
	[cold:skopeo-oci]="skopeo copy -q --src-tls-verify=false docker://$BIG oci:$W/cold-skopeo-oci/layout:1"
	[cold-busybox:berth]="$(berth "$W/cold-busybox-berth" "$BUSYBOX")"
	[cold-busybox:podman]="$(podman_pull "$W/cold-busybox-podman" "$BUSYBOX")"
	[warm:berth]="$(berth "$W/warm-berth" "$BIG")"
	[warm:podman]="$(podman_pull "$W/warm-podman" "$BIG")"
)
cold_names=(cold:berth cold:podman cold:skopeo-cs cold:skopeo-oci cold-busybox:berth cold-busybox:podman)
warm_names=(warm:berth warm:podman)
prepare() { # name → the --prepare command of its store
	local n=$1
	echo "$SELF --fresh $W/${n%%:*}-${n#*:}"
}

# Every command once, untimed: it must work (and the warm stores get the image).
for n in "${cold_names[@]}" "${warm_names[@]}"; do
	[[ $n == warm:* ]] || $(prepare "$n")
	set -f # containers-storage:[…] is no glob
	${cmds[$n]} >/dev/null || die "$n failed: ${cmds[$n]}"
	set +f
done

# --- ROUNDS interleaved hyperfine runs per group ---
# round GROUP RUNS WARMUP NAMES...: one hyperfine invocation per round.
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
		for n in "${order[@]}"; do
			if [[ $group == cold ]]; then args+=(--prepare "$(prepare "$n")"); else args+=(--prepare true); fi
		done
		for n in "${order[@]}"; do args+=(-n "$n" "${cmds[$n]}"); done
		echo "--- $group round $r/$ROUNDS: ${#order[@]} commands x $runs runs (+$warmup warmup) ---" >&2
		hyperfine --shell=none --style basic --warmup "$warmup" --runs "$runs" \
			--export-json "$W/$group-round-$r.json" "${args[@]}" >&2
	done
}
start_s=$SECONDS
round cold "$RUNS" 1 "${cold_names[@]}"
round warm "$WARM_RUNS" 2 "${warm_names[@]}"
elapsed=$((SECONDS - start_s))

# --- where berth's cold pull goes ---
echo "--- breakdown: $BREAKDOWN_RUNS cold pulls through internal/engine ---" >&2
breakdown=$(cd "$REPO" && BERTH_BENCH=1 BERTH_BENCH_RUNS=$BREAKDOWN_RUNS BERTH_BIN_DIR=$REPO/bin \
	go test -count=1 -v -run '^TestBreakdown$' ./bench/pullbench | sed -n 's/^        //p')

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
	--arg fs "$(findmnt -no FSTYPE -T "$W") on $(findmnt -no SOURCE -T "$W") ($(findmnt -no OPTIONS -T "$W"))" \
	--arg podman "$(podman --version)" \
	--arg skopeo "$(skopeo --version)" \
	--arg berth "$commit" \
	--arg hyperfine "$(hyperfine --version)" \
	--arg load "$(cut -d' ' -f1-3 /proc/loadavg)" \
	'{kernel: $kernel, cpus: ($cpus | tonumber), cpu: $cpu, fs: $fs, podman: $podman, skopeo: $skopeo,
	  berth_commit: $berth, hyperfine: $hyperfine, loadavg_at_end: $load}')

# --- pool the rounds, compute stats and ratios ---
date_utc=$(date -u +%Y-%m-%dT%H%M%SZ)
mkdir -p "$HERE/results"
out=$HERE/results/pull-$date_utc.json
jq -s \
	--argjson host "$host" \
	--argjson rounds "$ROUNDS" --argjson runs "$RUNS" --argjson warm_runs "$WARM_RUNS" \
	--argjson elapsed "$elapsed" --arg date "$date_utc" '
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
	| def ratio($a; $b): {mean: ($s[$a].mean / $s[$b].mean), median: ($s[$a].median / $s[$b].median)};
	{date: $date, command: "bench/pull.sh", host: $host,
	 method: {rounds: $rounds, cold_runs_per_round: $runs, warm_runs_per_round: $warm_runs, elapsed_s: $elapsed},
	 results: $s,
	 ratios: {"cold:podman/berth": ratio("cold:podman"; "cold:berth"),
		"cold:skopeo-cs/berth": ratio("cold:skopeo-cs"; "cold:berth"),
		"cold:skopeo-oci/berth": ratio("cold:skopeo-oci"; "cold:berth"),
		"cold-busybox:podman/berth": ratio("cold-busybox:podman"; "cold-busybox:berth"),
		"warm:podman/berth": ratio("warm:podman"; "warm:berth")}}
	' "$W"/cold-round-*.json "$W"/warm-round-*.json >"$out"

# --- the table ---
table=$(jq -r '
	def ms: . * 1000 | if . >= 100 then round else . * 10 | round / 10 end | tostring;
	def r2: . * 100 | round / 100 | tostring;
	def cell($x): "\($x.mean | ms) ± \($x.stddev | ms) (\($x.median | ms))";
	.results as $s | .ratios as $r |
	"| scenario | berth ms: mean ± sd (median) | other ms: mean ± sd (median) | other/berth mean | other/berth median |",
	"|---|---|---|---|---|",
	(["cold:podman", "cold:skopeo-cs", "cold:skopeo-oci", "cold-busybox:podman", "warm:podman"][] as $k |
	 ($k | split(":")) as [$g, $o] |
	 "| \({"cold:podman": "cold, big image: `podman pull` (overlay)",
		"cold:skopeo-cs": "cold, big image: `skopeo copy` to containers-storage (overlay)",
		"cold:skopeo-oci": "cold, big image: `skopeo copy` to an OCI layout (no unpack)",
		"cold-busybox:podman": "cold, busybox (1 layer): `podman pull`",
		"warm:podman": "warm, big image (all layers cached): `podman pull`"}[$k]) | \(cell($s[$g + ":berth"])) | \(cell($s[$k])) | **\($r[$k + "/berth"].mean | r2)** | **\($r[$k + "/berth"].median | r2)** |"),
	"",
	"Samples per command: \(.method.rounds) rounds x \(.method.cold_runs_per_round) runs cold (after 1 warmup run per round), x \(.method.warm_runs_per_round) warm (after 2), \(.method.elapsed_s) s in all. Ratios above 1 mean berth is faster."
	' "$out")
host_md=$(jq -r '.host | "Host: kernel \(.kernel), \(.cpus) CPUs (\(.cpu)), \(.fs), \(.podman), \(.skopeo), berth \(.berth_commit), \(.hyperfine), load average \(.loadavg_at_end) at the end."' "$out")
results_rel=${out#"$REPO"/}
txt=${out%.json}.txt
{
	echo "bench/pull.sh, run of $date_utc (UTC)"
	echo
	echo "$table"
	echo
	echo "$host_md"
	echo
	echo "Where berth's cold pull of $BIG goes (TestBreakdown, bench/pullbench; times in ms"
	echo "from the pull's start; apply = Extracting to Verifying; commit = Verifying to Done):"
	echo
	echo "$breakdown"
} >"$txt"

echo
cat "$txt"
echo "Raw results: $results_rel, ${txt#"$REPO"/}"

# --- docs/performance.md, between the markers ---
if ((update_doc)); then
	begin='<!-- bench:pull:begin -->' end='<!-- bench:pull:end -->'
	if grep -qF "$begin" "$DOC" 2>/dev/null && grep -qF "$end" "$DOC"; then
		block=$(printf '%s\n\n%s\n\n%s\n\nCommand: `make bench-pull` (bench/pull.sh). Raw results: `%s`, breakdown in `%s`.\n' \
			"Run of $date_utc (UTC)." "$table" "$host_md" "$results_rel" "${txt#"$REPO"/}")
		BLOCK=$block awk -v b="$begin" -v e="$end" '
			$0 == b { print; print ENVIRON["BLOCK"]; skip = 1; next }
			$0 == e { skip = 0 }
			!skip' "$DOC" >"$W/doc" && cat "$W/doc" >"$DOC"
		echo "updated ${DOC#"$REPO"/}"
	else
		echo "pull.sh: $DOC has no $begin/$end markers; not updated" >&2
	fi
fi
