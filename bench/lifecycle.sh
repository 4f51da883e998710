#!/usr/bin/env bash
# One container lifecycle, the way a shim drives a runtime: create, start, wait until the
# container's process has exited, delete.
#
#   bench/lifecycle.sh RUNTIME STATE_ROOT BUNDLE SLEEP_FIFO
#
# The id is unique per call (this shell's pid). "Wait" watches the pid from --pid-file: the
# container's init is reparented to the host's pid 1 when the runtime's create process exits,
# so it is gone (or a zombie) once the command has run. Between polls the script sleeps 0.2 ms
# with `read -t` on SLEEP_FIFO (a FIFO nobody writes), so the loop neither forks nor spins.
# Called by bench/runtime.sh; exits non-zero if any step fails, which stops the benchmark.
set -euo pipefail
rt=$1 root=$2 bundle=$3 fifo=$4
id=lc-$$
pidfile=$root/$id.pid

exec 3<>"$fifo"
"$rt" --root "$root" create --bundle "$bundle" --pid-file "$pidfile" "$id"
read -r pid <"$pidfile" || [[ -n ${pid:-} ]]
"$rt" --root "$root" start "$id"
while read -r _ _ st _ 2>/dev/null <"/proc/$pid/stat" && [[ $st != Z ]]; do
	read -r -t 0.0002 -u 3 _ || true
done
"$rt" --root "$root" delete "$id"
rm -f "$pidfile"
