#!/usr/bin/env bash
# The registries image tests pull from and push to (test/kit: Registry,
# AuthRegistry, PushImage), two instances of Debian's docker-registry
# (distribution v2) over plain HTTP on the loopback only:
#
#   127.0.0.1:5000  open to all, deletes enabled
#   127.0.0.1:5001  basic auth (htpasswd, bcrypt): user berth, password berth-test
#
# Usage: scripts/registry.sh start|stop|status|clean
#   start   start both (those not running) and wait until /v2/ answers
#   stop    stop the instances this script started (by their pid files)
#   status  say whether each runs; exit 3 unless both do
#   clean   stop, then remove the stored images
#
# State, config, logs and storage are under $BERTH_REGISTRY_DIR
# (/var/tmp/berth-registry), one directory per port; storage survives a
# stop, so images pushed once are there the next time (kit.PushImage skips
# what is already there). Tests push the images they need themselves.
set -euo pipefail

base=${BERTH_REGISTRY_DIR:-/var/tmp/berth-registry}
user=berth
password=berth-test
instances=(5000:open 5001:auth)

die() { echo "registry: $*" >&2; exit 1; }

# pid_of PORT prints the pid of our registry on PORT, if it runs.
pid_of() {
	local pidfile=$base/$1/pid pid exe
	[ -f "$pidfile" ] || return 1
	pid=$(cat "$pidfile")
	[ -n "$pid" ] && exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || return 1
	[ "$(basename "$exe")" = docker-registry ] || return 1
	echo "$pid"
}

# answers PORT prints the HTTP status of GET /v2/ (000 when nothing answers).
answers() {
	curl -s -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:$1/v2/" || true
}

write_config() { # PORT KIND
	local dir=$base/$1
	{
		echo "version: 0.1"
		echo "log:"
		echo "  level: warn"
		echo "  accesslog:"
		echo "    disabled: true"
		echo "storage:"
		echo "  filesystem:"
		echo "    rootdirectory: $dir/data"
		echo "  delete:"
		echo "    enabled: true"
		echo "http:"
		echo "  addr: 127.0.0.1:$1"
		echo "  secret: berth-test-only"
		if [ "$2" = auth ]; then
			echo "auth:"
			echo "  htpasswd:"
			echo "    realm: berth-test"
			echo "    path: $dir/htpasswd"
		fi
	} >"$dir/config.yml"
	if [ "$2" = auth ] && ! htpasswd -vb "$dir/htpasswd" "$user" "$password" >/dev/null 2>&1; then
		htpasswd -Bbc "$dir/htpasswd" "$user" "$password" >/dev/null 2>&1 || die "htpasswd failed (apt-get install apache2-utils)"
	fi
}

start_one() { # PORT KIND
	local port=$1 kind=$2 dir=$base/$1 pid code
	if pid=$(pid_of "$port"); then
		echo "registry: 127.0.0.1:$port ($kind) already runs, pid $pid"
		return
	fi
	code=$(answers "$port")
	[ "$code" = 000 ] || die "127.0.0.1:$port answers ($code) but is not ours: stop what listens there"
	mkdir -p "$dir/data"
	write_config "$port" "$kind"
	# setsid: its own session, so a terminal's signals do not reach it (it
	# execs the registry in place: a background job leads no process group).
	setsid docker-registry serve "$dir/config.yml" </dev/null >"$dir/log" 2>&1 &
	pid=$!
	echo "$pid" >"$dir/pid"
	for _ in $(seq 100); do
		code=$(answers "$port")
		if [ "$code" = 200 ] || [ "$code" = 401 ]; then
			pid_of "$port" >/dev/null || die "127.0.0.1:$port answers, but pid $pid is not docker-registry"
			echo "registry: 127.0.0.1:$port ($kind) runs, pid $pid"
			return
		fi
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	tail -n 20 "$dir/log" >&2 || true
	die "127.0.0.1:$port did not come up (log: $dir/log)"
}

stop_one() { # PORT
	local port=$1 pid
	if ! pid=$(pid_of "$port"); then
		rm -f "$base/$port/pid"
		return
	fi
	kill "$pid"
	for _ in $(seq 50); do
		[ -d "/proc/$pid" ] || break
		sleep 0.1
	done
	[ -d "/proc/$pid" ] && kill -KILL "$pid"
	rm -f "$base/$port/pid"
	echo "registry: 127.0.0.1:$port stopped"
}

cmd=${1:-}
case "$cmd" in
start)
	command -v docker-registry >/dev/null || die "docker-registry is missing (apt-get install docker-registry)"
	command -v htpasswd >/dev/null || die "htpasswd is missing (apt-get install apache2-utils)"
	for i in "${instances[@]}"; do start_one "${i%%:*}" "${i#*:}"; done
	;;
stop)
	for i in "${instances[@]}"; do stop_one "${i%%:*}"; done
	;;
status)
	rc=0
	for i in "${instances[@]}"; do
		port=${i%%:*}
		if pid=$(pid_of "$port"); then
			echo "127.0.0.1:$port (${i#*:}): runs, pid $pid, /v2/ answers $(answers "$port")"
		else
			echo "127.0.0.1:$port (${i#*:}): stopped"
			rc=3
		fi
	done
	exit $rc
	;;
clean)
	for i in "${instances[@]}"; do stop_one "${i%%:*}"; done
	for i in "${instances[@]}"; do rm -rf "${base:?}/${i%%:*}"; done
	;;
*)
	echo "usage: $0 start|stop|status|clean" >&2
	exit 2
	;;
esac
