#!/usr/bin/env bash
# Start or stop the throwaway PostgreSQL and Redis servers the test suite also runs against.
# Loopback only, installed from Debian's packages when missing.
#
# The data lives in a fresh directory under /tmp, not in the checkout: the checkout may sit in a
# directory only its owner can enter (a private home, a `mktemp -d`), and PostgreSQL refuses to
# run as root, so as root it runs as `postgres`, which could not reach it there.
# Any failure stops here with one line naming the service and its log's last lines, so the
# suite never starts against servers that are not there.
set -euo pipefail
cd "$(dirname "$0")/.."
POINTER="$PWD/var/test-services.dir"  # where `stop` finds the running servers' directory
PG_PORT="${TEST_PG_PORT:-54329}"
REDIS_PORT="${TEST_REDIS_PORT:-63799}"
STATE=""

is_root() { [ "$(id -u)" = 0 ]; }

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

# cd / first: the server's user may not be allowed into the caller's working directory.
as_server() {
  if is_root; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

# The last lines of a log, on one line.
tail_of() { tail -n 3 "$1" 2>/dev/null | tr -s '\n' '|' | sed 's/|$//; s/|/ | /g'; }

fail() {  # service, reason, log
  echo "tests/services.sh: $1 did not start: $2${3:+; $3 ends: $(tail_of "$3")}" >&2
  # Keep the logs the message names; drop the rest.
  if [ -n "$STATE" ]; then halt "$STATE"; rm -rf "$STATE/pg" "$POINTER"; rmdir "$STATE" 2>/dev/null || true; fi
  exit 1
}

install() {
  local bin; bin="$(pg_bin)"
  [ -n "$bin" ] && command -v redis-server >/dev/null && command -v redis-cli >/dev/null && return
  is_root || fail "PostgreSQL/Redis" "not installed and only root can apt-get; install the Debian packages postgresql and redis-server (apt-get install postgresql redis-server) or run as root"
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql redis-server; } \
    >"$STATE/install.log" 2>&1 || fail "PostgreSQL/Redis" "apt-get install postgresql redis-server failed" "$STATE/install.log"
}

# Refuse a taken port up front: otherwise Redis's daemon dies quietly, and tests might talk to a stranger.
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

start() {
  port_free "$PG_PORT" || fail PostgreSQL "127.0.0.1:$PG_PORT is already in use (a previous run? try: bash tests/services.sh stop; or set TEST_PG_PORT)"
  port_free "$REDIS_PORT" || fail Redis "127.0.0.1:$REDIS_PORT is already in use (a previous run? try: bash tests/services.sh stop; or set TEST_REDIS_PORT)"
  STATE="$(mktemp -d /tmp/referloop-services.XXXXXX)"  # /tmp, not $TMPDIR: it may be private too
  mkdir -p "$(dirname "$POINTER")" && echo "$STATE" >"$POINTER"
  install
  if is_root; then chown postgres "$STATE" || fail PostgreSQL "there is no user postgres to run it as"; fi
  local bin; bin="$(pg_bin)"
  as_server "$bin/initdb" -D "$STATE/pg" -U postgres --auth=trust -E UTF8 >"$STATE/initdb.log" 2>&1 \
    || fail PostgreSQL "initdb failed" "$STATE/initdb.log"
  as_server "$bin/pg_ctl" -D "$STATE/pg" -l "$STATE/pg.log" -w -t 30 \
    -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $STATE -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    start >"$STATE/pg_ctl.log" 2>&1 \
    || fail PostgreSQL "pg_ctl start failed" "$( [ -s "$STATE/pg.log" ] && echo "$STATE/pg.log" || echo "$STATE/pg_ctl.log")"
  # The same way in as the tests: TCP on loopback, user postgres.
  "$bin/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -Atqc 'select 1' >"$STATE/probe.log" 2>&1 \
    || fail PostgreSQL "it does not answer on 127.0.0.1:$PG_PORT" "$STATE/probe.log"
  redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly no --daemonize yes \
    --pidfile "$STATE/redis.pid" --logfile "$STATE/redis.log" --dir "$STATE" >>"$STATE/redis.log" 2>&1 \
    || fail Redis "redis-server failed" "$STATE/redis.log"
  # --daemonize returns before the server listens, and even when it then fails.
  for _ in $(seq 50); do
    [ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ] && return
    sleep 0.1
  done
  fail Redis "it does not answer PING on 127.0.0.1:$REDIS_PORT" "$STATE/redis.log"
}

halt() {  # stop whatever runs from directory $1
  local bin; bin="$(pg_bin)"
  if [ -n "$bin" ] && [ -f "$1/pg/postmaster.pid" ]; then
    as_server "$bin/pg_ctl" -D "$1/pg" -m fast -w stop >/dev/null 2>&1 || true
  fi
  if [ -f "$1/redis.pid" ]; then
    local pid; pid="$(cat "$1/redis.pid")"
    kill "$pid" 2>/dev/null || true
    # Wait for it to go, so the next run finds the port free.
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
}

stop() {
  [ -f "$POINTER" ] || return 0
  local dir; dir="$(cat "$POINTER")"
  case "$dir" in /tmp/referloop-services.?*) ;; *) echo "tests/services.sh: ignoring odd $POINTER" >&2; return 1 ;; esac
  halt "$dir"
  rm -rf "$dir" "$POINTER"
}

"$@"
