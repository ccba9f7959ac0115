#!/usr/bin/env bash
# Run each argument (a shell command) as a lane, all lanes at once, and fail if any lane failed.
#
# `make test` is two lanes: the suite spends much of its time waiting (on sockets, on PostgreSQL,
# on a browser), so the PostgreSQL and Redis pass runs beside the SQLite pass and the browser
# suite instead of after them. Each lane's output is kept apart and printed whole when the lane
# ends, so what a failing lane printed reads as it would alone. The lanes share nothing: SQLite
# files under pytest's own temporary directories, throwaway PostgreSQL databases per test, a
# free port for every server.
set -uo pipefail
logs="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$logs"' EXIT
trap 'exit 130' INT TERM

declare -A names=()
n=0
for lane in "$@"; do
  n=$((n + 1))
  echo "lanes: $n started: $lane"
  bash -c "$lane" >"$logs/$n" 2>&1 &
  names[$!]="$n"
done

failed=0
while [ "${#names[@]}" -gt 0 ]; do
  wait -n -p done_pid "${!names[@]}"
  status=$?
  lane="${names[$done_pid]}"
  unset "names[$done_pid]"
  echo
  echo "======== lane $lane: ${*:$lane:1} (exit $status) ========"
  cat "$logs/$lane"
  [ "$status" = 0 ] || failed=1
done
exit "$failed"
