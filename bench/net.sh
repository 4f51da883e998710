#!/usr/bin/env bash
# Networking: the start of a container with a published port and TCP throughput into it,
# berth (CNI: bridge, host-local, portmap, firewall) beside Podman (netavark), in one run.
#
#   bench/net.sh [--no-doc]        (or `make bench-net`; about 5 minutes)
#   bench/net.sh --breakdown       only where berth's attach and detach go (no Podman, no doc)
#
# Builds (make build) and bench/tcpbench (static), starts the test registry if it is not
# running, puts the test kit's busybox image into it (as bench/run.sh does) and pulls
# 127.0.0.1:5000/bench/busybox:1 into a private berth root and a private Podman store (a
# private containers.conf as bench/run.sh's). Podman's network is a bridge network of its
# own, written into its private --network-config-dir (netavark: bridge bnp<pid>, a free
# 10.199.x.0/24, no DNS, as berth's default network has none); berth uses its default
# network (a bridge per root). Every container runs `/tcpbench sink :80` (the host's
# tcpbench bound in read-only) with -p 127.0.0.1:HOSTPORT:80. Timed by hyperfine
# --shell=none, ROUNDS invocations per group, the order reversed every other round:
#   start   `run -d -p 127.0.0.1:PORT:80 IMG /tcpbench sink :80`, the container of the run
#           before removed by hyperfine's --prepare (untimed)
#   cycle   run -d as above, then `tcpbench wait 127.0.0.1:PORT` (until the container
#           accepts a connection through the published port), then rm -f (podman: -t 0)
# Throughput: one sink container per tool; TP_ROUNDS rounds, each `tcpbench send ADDR
# TP_SECONDS` (one connection, 128 KiB writes) to, in turn: the host's own loopback (a sink on
# the host: the ceiling), berth's published port 127.0.0.1:PORT (DNAT + SNAT), berth's
# container IP (the kernel bridge, no NAT), the same two for Podman, and the published port of
# a berth `--network slirp4netns` container (user-mode networking, what rootless containers
# get; run as root here, the same process); the order reversed every other round; medians
# of Gbit/s.
# Breakdown: BREAKDOWN_RUNS `run -d -p` and `rm -f` per tool under `perf record` of the
# scheduler's exec/fork/exit tracepoints: every process (CNI plugin, iptables, netavark, …)
# of the command's tree (and of berth's exit command), its wall time and who started it.
#
# Output: tables on stdout, bench/results/net-<UTC date-time>.json and .txt, and the tables
# between the bench:net markers of docs/performance.md (unless --no-doc). Nothing is left
# behind: containers removed, processes naming the work dir killed by pid, mounts under it
# unmounted, Podman's cgroup parent, its bridge, the iptables rules of a failed netavark
# teardown and its bind of /run/netns (when the run made it and nothing is below) removed.
#
# Environment: ROUNDS (2), RUNS (start per tool per round, 10), CYCLE_RUNS (8), TP_ROUNDS (8),
# TP_SECONDS (2), BREAKDOWN_RUNS (5), NO_BUILD=1, BERTH_BIN (default bin/berth; berth-monitor,
# berth-runtime and cni/ are taken from beside it), BERTH_COMMIT (a label for the results).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
SELF=$HERE/$(basename "$0")

# --rm ENGINE... -- NAME: remove NAME if it exists (hyperfine's --prepare).
# --cycle PORT ENGINE... -- RUNARGS...: run -d, wait until reachable, rm -f (hyperfine's command).
if [[ ${1:-} == --rm || ${1:-} == --cycle ]]; then
	mode=$1 port=
	shift
	[[ $mode == --cycle ]] && { port=$1; shift; }
	engine=()
	while [[ $1 != -- ]]; do engine+=("$1"); shift; done
	shift
	rm_flags=(-f)
	[[ ${engine[0]} == podman ]] && rm_flags+=(-t 0) # berth's rm -f kills at once; podman's waits -t
	if [[ $mode == --rm ]]; then
		"${engine[@]}" rm "${rm_flags[@]}" "$1" >/dev/null 2>&1 || true
		exit 0
	fi
	id=$("${engine[@]}" run -d "$@")
	"$TCPBENCH" wait "127.0.0.1:$port" 20s
	"${engine[@]}" rm "${rm_flags[@]}" "$id" >/dev/null
	exit
fi

ROUNDS=${ROUNDS:-2}
RUNS=${RUNS:-10}
CYCLE_RUNS=${CYCLE_RUNS:-8}
TP_ROUNDS=${TP_ROUNDS:-8}
TP_SECONDS=${TP_SECONDS:-2}
BREAKDOWN_RUNS=${BREAKDOWN_RUNS:-5}
BERTH_BIN=${BERTH_BIN:-$REPO/bin/berth}
DOC=$REPO/docs/performance.md
IMAGE=127.0.0.1:5000/bench/busybox:1

update_doc=1 only_breakdown=0
for arg in "$@"; do
	case $arg in
	--no-doc) update_doc=0 ;;
	--breakdown) only_breakdown=1 update_doc=0 ;;
	-h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "net.sh: unknown argument $arg" >&2; exit 2 ;;
	esac
done

die() { echo "net.sh: $*" >&2; exit 1; }
[[ $(id -u) == 0 ]] || die "must run as root"
for t in hyperfine jq podman conmon go perf iptables-save ss; do
	command -v "$t" >/dev/null || die "$t not found"
done

if [[ -z ${NO_BUILD:-} ]]; then
	make -C "$REPO" --no-print-directory build >&2
fi
BIN_DIR=$(dirname "$BERTH_BIN")
for f in "$BERTH_BIN" "$BIN_DIR/berth-monitor" "$BIN_DIR/berth-runtime" "$BIN_DIR/cni/bridge"; do
	[[ -x $f ]] || die "$f not built (make build)"
done

# --- registry, image ---
registry_started=0
if ! "$REPO/scripts/registry.sh" status >/dev/null 2>&1; then
	"$REPO/scripts/registry.sh" start >&2
	registry_started=1
fi
(cd "$REPO" && BERTH_BENCH=1 BERTH_BIN_DIR=$REPO/bin go test -count=1 -run '^TestSeed$' ./bench/pullbench >&2) ||
	die "could not put the bench images into the registry"

# --- workspace, cleanup ---
W=$(mktemp -d /tmp/bnet.XXXXXX)
CGP=/berth/bench-net-$$
PBRIDGE=bnp$(($$ % 100000))
PNET=bn$$ # Podman's network: netavark names its chains after it
sub=
made=()
for d in /var/lib/containers/cache /var/lib/containers /run/berth-runtime; do
	[[ -e $d ]] || made+=("$d")
done
# Podman binds /run/netns on itself (shared) for its namespaces when it is no mount point.
netns_mounted=0
mountpoint -q /run/netns 2>/dev/null && netns_mounted=1

# Private copies of the binaries (a `make build` meanwhile changes nothing here).
mkdir -p "$W/bin"
cp "$BERTH_BIN" "$W/bin/berth"
cp "$BIN_DIR/berth-monitor" "$BIN_DIR/berth-runtime" "$W/bin/"
cp -r "$BIN_DIR/cni" "$W/bin/cni"
(cd "$REPO" && CGO_ENABLED=0 go build -trimpath -o "$W/bin/tcpbench" ./bench/tcpbench)
export TCPBENCH=$W/bin/tcpbench
B=("$W/bin/berth" --root "$W/b/root" --runroot "$W/b/run")
P=(podman --root "$W/p/storage" --runroot "$W/p/run" --tmpdir "$W/p/libpod"
	--network-config-dir "$W/p/net" --storage-driver overlay --cgroup-manager cgroupfs
	--events-backend file)
PF=(--network "$PNET" --cgroup-parent "$CGP") # podman's run flags
VOL=(-v "$TCPBENCH:/tcpbench:ro")

unmount_below() {
	local dir=$1 m
	while read -r m; do
		umount "$m" 2>/dev/null || umount -l "$m" || true
	done < <(awk -v d="$dir" '{ p = $5; gsub(/\\040/, " ", p) }
		p == d || index(p, d "/") == 1 { print length(p) "\t" p }' /proc/self/mountinfo |
		sort -rn | cut -f2-)
}

remove_all() {
	local ids
	ids=$("${B[@]}" ps -aq --no-trunc 2>/dev/null || true)
	if [[ -n $ids ]]; then
		# shellcheck disable=SC2086 # one ID per word
		"${B[@]}" rm -f $ids >/dev/null || true
	fi
	if ((!only_breakdown)); then "${P[@]}" rm -af -t 0 >/dev/null 2>&1 || true; fi
}

host_sink=
cleanup() {
	local rc=$? pid d c
	trap - EXIT INT TERM
	[[ -n $host_sink ]] && kill "$host_sink" 2>/dev/null
	remove_all
	if ((!only_breakdown)); then "${P[@]}" rmi -af >/dev/null 2>&1 || true; fi
	for pid in $(grep -lsF "$W" /proc/[0-9]*/cmdline | cut -d/ -f3); do
		[[ $pid != "$$" ]] && kill -9 "$pid" 2>/dev/null && echo "net.sh: killed leftover $pid" >&2
	done
	unmount_below "$W"
	rm -rf "$W"
	for d in /sys/fs/cgroup/*"$CGP"; do
		[[ -d $d && ! -L $(dirname "${d%"$CGP"}") ]] || continue
		for c in "$d"/*/; do [[ -d $c ]] && rmdir "$c" 2>/dev/null; done
		rmdir "$d" 2>/dev/null || echo "net.sh: cgroup $d not removed" >&2
	done
	# What netavark leaves when a teardown fails: rules naming the network's subnet or name,
	# and its chains (named after the network) that they jump to.
	if [[ -n $sub ]]; then
		local tbl rules chains
		for tbl in nat filter; do
			rules=$(iptables-save -t "$tbl" 2>/dev/null | grep -E "^-A .*($sub\.|name: $PNET )" || true)
			[[ -n $rules ]] || continue
			chains=$(grep -oE 'NETAVARK-(DN-)?[0-9A-F]{13}' <<<"$rules" | sort -u || true)
			{
				echo "*$tbl"
				sed 's/^-A /-D /' <<<"$rules"
				for c in $chains; do echo "-F $c"; echo "-X $c"; done
				echo COMMIT
			} | iptables-restore --noflush -w && echo "net.sh: removed netavark's leftover $tbl rules of $sub.0/24" >&2
		done
	fi
	if ip link show "$PBRIDGE" >/dev/null 2>&1; then
		ip link del "$PBRIDGE" && echo "net.sh: removed podman's bridge $PBRIDGE" >&2
	fi
	if ((!netns_mounted)) && mountpoint -q /run/netns 2>/dev/null &&
		! awk '$5 ~ "^/run/netns/" { found = 1 } END { exit !found }' /proc/self/mountinfo; then
		umount /run/netns || true
	fi
	rm -f /var/lib/containers/cache/blob-info-cache-v1.boltdb 2>/dev/null || true
	for d in "${made[@]}"; do rmdir "$d" 2>/dev/null || true; done
	if ((registry_started)); then "$REPO/scripts/registry.sh" stop >&2 || true; fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# free_port: a TCP port nobody listens on and no DNAT rule names.
nat_rules=$(iptables-save -t nat 2>/dev/null || true)
taken_ports=" "
free_port() {
	local p
	while :; do
		p=$((20000 + RANDOM % 30000))
		[[ $taken_ports == *" $p "* ]] && continue
		[[ -z $(ss -Htan "( sport = :$p )") ]] || continue
		[[ $nat_rules == *"dport $p "* ]] && continue
		taken_ports+="$p "
		echo "$p"
		return
	done
}
PORT_START_B=$(free_port) PORT_START_P=$(free_port) PORT_CYCLE_B=$(free_port) PORT_CYCLE_P=$(free_port)
PORT_TP_B=$(free_port) PORT_TP_P=$(free_port) PORT_HOST=$(free_port)
PORT_SL_B=$(free_port)

"${B[@]}" pull -q "$IMAGE" >/dev/null

if ((!only_breakdown)); then
	cat >"$W/containers.conf" <<-EOF
		[containers]
		default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]

		[engine]
		cgroup_manager = "cgroupfs"
		events_logger = "file"
		events_logfile_path = "$W/podman-events.log"
	EOF
	mkdir -p "$W/tmp" "$W/p/net"
	export CONTAINERS_CONF=$W/containers.conf TMPDIR=$W/tmp
	# A bridge network of Podman's own: a /24 of 10.199.0.0/16 that no route covers.
	routes=$(ip -4 route show)
	for ((i = 0; i < 256; i++)); do
		x=$((($$ + i) % 256))
		[[ $routes == *"10.199.$x."* ]] || { sub=10.199.$x; break; }
	done
	[[ -n $sub ]] || die "no free /24 in 10.199.0.0/16 for Podman's network"
	cat >"$W/p/net/$PNET.json" <<-EOF
		{
		  "name": "$PNET",
		  "id": "$(head -c 32 /dev/urandom | sha256sum | cut -c1-64)",
		  "driver": "bridge",
		  "network_interface": "$PBRIDGE",
		  "created": "$(date -u +%Y-%m-%dT%H:%M:%S.000000000Z)",
		  "subnets": [{"subnet": "$sub.0/24", "gateway": "$sub.1"}],
		  "ipv6_enabled": false,
		  "internal": false,
		  "dns_enabled": false,
		  "ipam_options": {"driver": "host-local"}
		}
	EOF
	"${P[@]}" pull -q --tls-verify=false "$IMAGE" >/dev/null
fi

b=${B[*]} p=${P[*]} pf=${PF[*]} vol=${VOL[*]}
sink="$IMAGE /tcpbench sink :80"
declare -A cmds=(
	[start:berth]="$b run -d --name bn-start -p 127.0.0.1:$PORT_START_B:80 $vol $sink"
	[start:podman]="$p run -d --name pn-start $pf -p 127.0.0.1:$PORT_START_P:80 $vol $sink"
	[cycle:berth]="$SELF --cycle $PORT_CYCLE_B $b -- -p 127.0.0.1:$PORT_CYCLE_B:80 $vol $sink"
	[cycle:podman]="$SELF --cycle $PORT_CYCLE_P $p -- $pf -p 127.0.0.1:$PORT_CYCLE_P:80 $vol $sink"
)
declare -A prep=(
	[start:berth]="$SELF --rm $b -- bn-start"
	[start:podman]="$SELF --rm $p -- pn-start"
)

# round GROUP RUNS NAMES...: ROUNDS hyperfine invocations, the order reversed every other one.
round() {
	local group=$1 runs=$2 r i n
	shift 2
	local names=("$@") order args
	for ((r = 1; r <= ROUNDS; r++)); do
		order=("${names[@]}")
		if ((r % 2 == 0)); then
			order=()
			for ((i = ${#names[@]} - 1; i >= 0; i--)); do order+=("${names[i]}"); done
		fi
		args=()
		for n in "${order[@]}"; do
			args+=(-n "$n")
			[[ -n ${prep[$n]:-} ]] && args+=(--prepare "${prep[$n]}")
		done
		for n in "${order[@]}"; do args+=("${cmds[$n]}"); done
		echo "--- $group round $r/$ROUNDS: ${#order[@]} commands x $runs runs ---" >&2
		hyperfine --shell=none --style basic --warmup 1 --runs "$runs" \
			--export-json "$W/$group-round-$r.json" "${args[@]}" >&2
	done
	${prep[start:berth]}
	${prep[start:podman]}
}

# --- breakdown: every process of a command's tree under perf's scheduler tracepoints ---
# tree_awk: reads `perf script -F pid,time,event,trace`; the roots are the command (the
# first exec of cli: perf starts recording just before it) and any process that execs a file
# under $W/bin (berth's exit command, started by a monitor of an earlier command) or
# /usr/bin/podman from conmon (its cleanup). Prints "name<TAB>parent<TAB>ms" per process image that ended, and
# "WALL<TAB><TAB>ms" for the command itself.
tree_awk='
{ t = $2; sub(/:$/, "", t) }
/sched_process_fork/ {
	match($0, /child_pid=[0-9]+/); cp = substr($0, RSTART + 10, RLENGTH - 10)
	if ($0 ~ / comm=conmon /) conmonkid[cp] = 1
	if ($1 in tree) { tree[cp] = 1; pname[cp] = ($1 in cur) ? name[cur[$1]] : pname[$1] }
	next
}
/sched_process_exec/ {
	match($0, /filename=[^ ]+/); f = substr($0, RSTART + 9, RLENGTH - 9)
	if (!root && f == cli) { root = $1; tree[$1] = 1; pname[$1] = "" }
	else if (!($1 in tree) && (index(f, w "/bin/") == 1 || (($1 in conmonkid) && f == "/usr/bin/podman"))) {
		tree[$1] = 1; pname[$1] = ""; detached[$1] = 1
	}
	if (!($1 in tree)) next
	sub(/.*\//, "", f)
	if (f ~ /^[0-9]+$/ || f == "exe") f = "runtime init (re-exec)"
	if ($1 in detached) f = f " (exit command)"
	if ($1 in cur) end[cur[$1]] = t
	cur[$1] = ++n; name[n] = f; start[n] = t; par[n] = pname[$1]; pid[n] = $1
	next
}
/sched_process_exit/ && /group_dead=(1|true)/ && ($1 in cur) { end[cur[$1]] = t; delete cur[$1] }
END {
	for (i = 1; i <= n; i++) {
		if (!(i in end)) continue
		if (pid[i] == root && !wall) { wall = 1; printf "WALL\t\t%.3f\n", (end[i] - start[i]) * 1000; continue }
		printf "%s\t%s\t%.3f\n", name[i], par[i], (end[i] - start[i]) * 1000
	}
}'
# traced TOOL PHASE RUN CMD...: CMD under perf; one JSON object per process image on stdout.
traced() {
	local tool=$1 phase=$2 run=$3
	shift 3
	perf record -q -o "$W/perf.data" -a \
		-e sched:sched_process_exec,sched:sched_process_fork,sched:sched_process_exit \
		-- "$@" >/dev/null 2>"$W/perf.err" || { cat "$W/perf.err" >&2; die "perf record of $* failed"; }
	perf script -i "$W/perf.data" -F pid,time,event,trace 2>/dev/null | awk -v w="$W" -v cli="$(command -v "$1")" "$tree_awk" |
		jq -R -c --arg tool "$tool" --arg phase "$phase" --argjson run "$run" \
			'split("\t") | {tool: $tool, phase: $phase, run: $run, name: .[0], parent: .[1], ms: (.[2] | tonumber)}'
}
breakdown() {
	local i tools=(berth)
	((only_breakdown)) || tools+=(podman)
	for ((i = 1; i <= BREAKDOWN_RUNS; i++)); do
		echo "--- breakdown $i/$BREAKDOWN_RUNS ---" >&2
		traced berth start "$i" "${B[@]}" run -d --name bn-bd -p "127.0.0.1:$PORT_START_B:80" "${VOL[@]}" $sink
		"$TCPBENCH" wait "127.0.0.1:$PORT_START_B" 20s
		traced berth rm "$i" "${B[@]}" rm -f bn-bd
		traced berth start-noport "$i" "${B[@]}" run -d --name bn-bd "${VOL[@]}" $sink
		traced berth rm-noport "$i" "${B[@]}" rm -f bn-bd
		if ((!only_breakdown)); then
			traced podman start "$i" "${P[@]}" run -d --name pn-bd "${PF[@]}" -p "127.0.0.1:$PORT_START_P:80" "${VOL[@]}" $sink
			"$TCPBENCH" wait "127.0.0.1:$PORT_START_P" 20s
			traced podman rm "$i" "${P[@]}" rm -f -t 0 pn-bd
		fi
	done
}

# The breakdown's summary: per tool and phase, per process name (tools that configure
# the firewall counted under the process that ran them), the median over runs of the count
# and of the summed wall time.
summarize_breakdown() {
	jq -s '
	def median: sort | if length == 0 then 0 elif length % 2 == 1 then .[length / 2 | floor]
		else (.[length / 2 - 1] + .[length / 2]) / 2 end;
	def key: if (.name | test("^(iptables|ip6tables|nft|iptables-save|iptables-restore|xtables.*|ip)$")) and .parent != ""
		then "\(.parent) → \(.name)" else .name end;
	(map(.run) | max) as $runs |
	group_by([.tool, .phase]) | map(
		{tool: .[0].tool, phase: .[0].phase,
		 wall_ms: (map(select(.name == "WALL") | .ms) | median),
		 procs: (map(select(.name != "WALL")) | group_by(key) | map(
			{name: (.[0] | key),
			 count: ([group_by(.run)[] | length] + [range($runs - (group_by(.run) | length)) | 0] | median),
			 ms: ([group_by(.run)[] | map(.ms) | add] + [range($runs - (group_by(.run) | length)) | 0] | median)})
			| sort_by(-.ms))})'
}

if ((only_breakdown)); then
	breakdown >"$W/breakdown.jsonl"
	summarize_breakdown <"$W/breakdown.jsonl" | jq -r '.[] | "\(.tool) \(.phase): CLI \(.wall_ms | round) ms",
		(.procs[] | select(.ms >= 0.5) | "  \(.name): \(.count) x, \(.ms * 10 | round / 10) ms")'
	exit 0
fi

# Every command once, untimed: it must work.
for n in start:berth start:podman cycle:berth cycle:podman; do
	${cmds[$n]} >/dev/null || die "$n failed: ${cmds[$n]}"
done
${prep[start:berth]}
${prep[start:podman]}
[[ -z $("${B[@]}" ps -aq) && -z $("${P[@]}" ps -aq) ]] || die "containers left after the first runs"

start_s=$SECONDS
round start "$RUNS" start:berth start:podman
round cycle "$CYCLE_RUNS" cycle:berth cycle:podman

# --- throughput ---
echo "--- throughput: $TP_ROUNDS rounds x 6 paths x $TP_SECONDS s ---" >&2
"${B[@]}" run -d --name bn-tp -p "127.0.0.1:$PORT_TP_B:80" "${VOL[@]}" $sink >/dev/null
"${P[@]}" run -d --name pn-tp "${PF[@]}" -p "127.0.0.1:$PORT_TP_P:80" "${VOL[@]}" $sink >/dev/null
# User-mode networking, as rootless containers get it (here as root: the same process).
# Podman's --network slirp4netns is left out: it passes slirp4netns --enable-sandbox, whose
# unmounts, run as root, reach the namespaces bound under /run/netns (Podman's own bridge
# containers': see docs/design-notes.md, "Rootless: slirp4netns").
"${B[@]}" run -d --name bn-sl --network slirp4netns -p "127.0.0.1:$PORT_SL_B:80" "${VOL[@]}" $sink >/dev/null
"$TCPBENCH" sink "127.0.0.1:$PORT_HOST" &
host_sink=$!
bip=$("${B[@]}" inspect --format '{{.NetworkSettings.IPAddress}}' bn-tp)
pip=$("${P[@]}" inspect --format "{{(index .NetworkSettings.Networks \"$PNET\").IPAddress}}" pn-tp)
declare -A paths=(
	[host-loopback]=127.0.0.1:$PORT_HOST
	[berth-published]=127.0.0.1:$PORT_TP_B [berth-bridge]=$bip:80
	[podman-published]=127.0.0.1:$PORT_TP_P [podman-bridge]=$pip:80
	[berth-slirp]=127.0.0.1:$PORT_SL_B
)
names=(host-loopback berth-published berth-bridge podman-published podman-bridge berth-slirp)
for n in "${names[@]}"; do "$TCPBENCH" wait "${paths[$n]}" 20s; done
for ((r = 1; r <= TP_ROUNDS; r++)); do
	order=("${names[@]}")
	if ((r % 2 == 0)); then
		order=()
		for ((i = ${#names[@]} - 1; i >= 0; i--)); do order+=("${names[i]}"); done
	fi
	for n in "${order[@]}"; do
		"$TCPBENCH" send "${paths[$n]}" "${TP_SECONDS}s" | jq -c --arg path "$n" --argjson round "$r" '. + {path: $path, round: $round}'
	done
done >"$W/throughput.jsonl"
kill "$host_sink" && wait "$host_sink" 2>/dev/null || true
host_sink=
"${B[@]}" rm -f bn-tp bn-sl >/dev/null
"${P[@]}" rm -f -t 0 pn-tp >/dev/null
elapsed=$((SECONDS - start_s))

breakdown >"$W/breakdown.jsonl"

# --- results ---
if [[ -n ${BERTH_COMMIT:-} ]]; then
	commit=$BERTH_COMMIT
else
	commit=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)
	git -C "$REPO" diff --quiet HEAD -- cmd internal 2>/dev/null || commit="$commit (+ uncommitted changes)"
fi
host=$(jq -n --arg kernel "$(uname -r)" --arg cpus "$(nproc)" \
	--arg cpu "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)" \
	--arg podman "$(podman --version)" --arg netavark "$(/usr/lib/podman/netavark --version 2>/dev/null || echo netavark)" \
	--arg iptables "$(iptables --version)" --arg berth "$commit" --arg hyperfine "$(hyperfine --version)" \
	--arg load "$(cut -d' ' -f1-3 /proc/loadavg)" \
	'{kernel: $kernel, cpus: ($cpus | tonumber), cpu: $cpu, podman: $podman, netavark: $netavark,
	  iptables: $iptables, berth_commit: $berth, hyperfine: $hyperfine, loadavg_at_end: $load}')
date_utc=$(date -u +%Y-%m-%dT%H%M%SZ)
mkdir -p "$HERE/results"
out=$HERE/results/net-$date_utc.json
jq -n --argjson host "$host" --arg date "$date_utc" --argjson elapsed "$elapsed" \
	--argjson rounds "$ROUNDS" --argjson runs "$RUNS" --argjson cycle_runs "$CYCLE_RUNS" \
	--argjson tp_rounds "$TP_ROUNDS" --argjson tp_seconds "$TP_SECONDS" \
	--slurpfile hf <(cat "$W"/*-round-*.json) \
	--slurpfile tp "$W/throughput.jsonl" \
	--argjson bd "$(summarize_breakdown <"$W/breakdown.jsonl")" '
	def median: sort | if length % 2 == 1 then .[length / 2 | floor]
		else (.[length / 2 - 1] + .[length / 2]) / 2 end;
	def stats: {n: length, mean: (add / length), median: median, min: min, max: max,
		stddev: (if length < 2 then 0 else
			(add / length) as $m | (map((. - $m) * (. - $m)) | add) / (length - 1) | sqrt end)};
	([$hf[].results[]] | group_by(.command) | map({key: .[0].command, value: (map(.times) | add | stats)})
		| from_entries) as $s
	| ($tp | group_by(.path) | map({key: .[0].path, value: (map(.gbit_per_s) | stats)}) | from_entries) as $t
	| {date: $date, command: "bench/net.sh", host: $host,
	   method: {rounds: $rounds, runs_per_round: $runs, cycle_runs_per_round: $cycle_runs,
		tp_rounds: $tp_rounds, tp_seconds: $tp_seconds, elapsed_s: $elapsed},
	   results: $s, throughput_gbit_s: $t,
	   ratios: {
		start: {mean: ($s["start:podman"].mean / $s["start:berth"].mean), median: ($s["start:podman"].median / $s["start:berth"].median)},
		cycle: {mean: ($s["cycle:podman"].mean / $s["cycle:berth"].mean), median: ($s["cycle:podman"].median / $s["cycle:berth"].median)},
		berth_published_over_bridge: ($t["berth-published"].median / $t["berth-bridge"].median),
		podman_published_over_bridge: ($t["podman-published"].median / $t["podman-bridge"].median),
		berth_over_podman_published: ($t["berth-published"].median / $t["podman-published"].median),
		berth_over_podman_bridge: ($t["berth-bridge"].median / $t["podman-bridge"].median)},
	   breakdown: $bd, throughput_samples: $tp}' >"$out"

table=$(jq -r '
	def ms: . * 1000 | if . >= 100 then round else . * 10 | round / 10 end | tostring;
	def r2: . * 100 | round / 100 | tostring;
	def g: . * 100 | round / 100 | tostring;
	def cell($x): "\($x.mean | ms) ± \($x.stddev | ms) (\($x.median | ms))";
	.results as $s | .ratios as $r | .throughput_gbit_s as $t |
	"| scenario | berth ms: mean ± sd (median) | podman ms: mean ± sd (median) | podman/berth mean | podman/berth median |",
	"|---|---|---|---|---|",
	"| `run -d -p 127.0.0.1:PORT:80 IMG /tcpbench sink :80` | \(cell($s["start:berth"])) | \(cell($s["start:podman"])) | **\($r.start.mean | r2)** | **\($r.start.median | r2)** |",
	"| the same + until reachable through the port + `rm -f` | \(cell($s["cycle:berth"])) | \(cell($s["cycle:podman"])) | **\($r.cycle.mean | r2)** | **\($r.cycle.median | r2)** |",
	"",
	"| TCP host → container, Gbit/s: median (min-max) of \(.method.tp_rounds) x \(.method.tp_seconds) s | berth | podman | berth/podman |",
	"|---|---|---|---|",
	"| through the published port 127.0.0.1:PORT (DNAT, SNAT) | \($t["berth-published"].median | g) (\($t["berth-published"].min | g)-\($t["berth-published"].max | g)) | \($t["podman-published"].median | g) (\($t["podman-published"].min | g)-\($t["podman-published"].max | g)) | **\($r.berth_over_podman_published | r2)** |",
	"| to the container IP (the kernel bridge, no NAT) | \($t["berth-bridge"].median | g) (\($t["berth-bridge"].min | g)-\($t["berth-bridge"].max | g)) | \($t["podman-bridge"].median | g) (\($t["podman-bridge"].min | g)-\($t["podman-bridge"].max | g)) | **\($r.berth_over_podman_bridge | r2)** |",
	"| published / bridge | **\($r.berth_published_over_bridge | r2)** | **\($r.podman_published_over_bridge | r2)** | |",
	"| through the published port, `--network slirp4netns` (user-mode, as rootless) | \($t["berth-slirp"].median | g) (\($t["berth-slirp"].min | g)-\($t["berth-slirp"].max | g)) | — | |",
	"| host loopback, no container (ceiling) | \($t["host-loopback"].median | g) (\($t["host-loopback"].min | g)-\($t["host-loopback"].max | g)) | | |",
	"",
	"Samples: start \(.method.rounds) rounds x \(.method.runs_per_round) runs per tool, cycle \(.method.rounds) x \(.method.cycle_runs_per_round); throughput rounds interleave the six paths, order reversed every other round; \(.method.elapsed_s) s in all. Time ratios above 1: berth is faster."
	' "$out")
bdtable=$(jq -r '
	def f: . * 10 | round / 10 | tostring;
	"| tool, phase | CLI ms | processes (median over runs: count x, summed ms) |",
	"|---|---|---|",
	(.breakdown[] | "| \(.tool), \(.phase) | \(.wall_ms | round) | \([.procs[] | select(.ms >= 1 and (.name | test("^(berth|podman|tcpbench|berth-monitor|conmon|catatonit|sh)$") | not)) | "\(.name) \(.count)x \(.ms | f)"] | join("; ")) |")
	' "$out")
host_md=$(jq -r '.host | "Host: kernel \(.kernel), \(.cpus) CPUs (\(.cpu)), \(.podman), \(.netavark), \(.iptables), berth \(.berth_commit), \(.hyperfine), load average \(.loadavg_at_end) at the end."' "$out")
results_rel=${out#"$REPO"/}
txt=${out%.json}.txt
{
	echo "bench/net.sh, run of $date_utc (UTC)"
	echo
	echo "$table"
	echo
	echo "Where the time goes (perf sched tracepoints, $BREAKDOWN_RUNS runs; start = run -d -p, rm = rm -f; -noport: without -p):"
	echo
	echo "$bdtable"
	echo
	echo "$host_md"
} >"$txt"
echo
cat "$txt"
echo "Raw results: $results_rel, ${txt#"$REPO"/}"

if ((update_doc)); then
	begin='<!-- bench:net:begin -->' end='<!-- bench:net:end -->'
	if grep -qF "$begin" "$DOC" 2>/dev/null && grep -qF "$end" "$DOC"; then
		block=$(printf '%s\n\n%s\n\n%s\n\n%s\n\n%s\n\nCommand: `make bench-net` (bench/net.sh). Raw results: `%s`.\n' \
			"Run of $date_utc (UTC)." "$table" "Where the time goes (\`perf\` scheduler tracepoints, median of $BREAKDOWN_RUNS runs; CLI = the command's own wall time; \`a → b\`: b run by a):" "$bdtable" "$host_md" "$results_rel")
		BLOCK=$block awk -v b="$begin" -v e="$end" '
			$0 == b { print; print ENVIRON["BLOCK"]; skip = 1; next }
			$0 == e { skip = 0 }
			!skip' "$DOC" >"$W/doc" && cat "$W/doc" >"$DOC"
		echo "updated ${DOC#"$REPO"/}"
	else
		echo "net.sh: $DOC has no $begin/$end markers; not updated" >&2
	fi
fi
