#!/usr/bin/env bash
# Start or stop the throwaway PostgreSQL and Redis servers the test suite also runs against.
# Loopback only, data under var/test-services, installed from Debian's packages when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
STATE="$PWD/var/test-services"
PG_PORT="${TEST_PG_PORT:-54329}"
REDIS_PORT="${TEST_REDIS_PORT:-63799}"

install() {
  if ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || ! command -v redis-server >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql redis-server >/dev/null
  fi
}

pg_bin() { ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1; }

as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start() {
  install
  mkdir -p "$STATE"
  [ "$(id -u)" = 0 ] && chown postgres "$STATE"
  local bin; bin="$(pg_bin)"
  if [ ! -f "$STATE/pg/PG_VERSION" ]; then
    as_postgres "$bin/initdb" -D "$STATE/pg" -U postgres --auth=trust -E UTF8 >/dev/null
  fi
  as_postgres "$bin/pg_ctl" -D "$STATE/pg" -l "$STATE/pg.log" -w \
    -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $STATE -c fsync=off -c synchronous_commit=off -c full_page_writes=off" start >/dev/null
  redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly no --daemonize yes \
    --pidfile "$STATE/redis.pid" --logfile "$STATE/redis.log" --dir "$STATE"
}

stop() {
  local bin; bin="$(pg_bin 2>/dev/null || true)"
  if [ -n "$bin" ] && [ -f "$STATE/pg/postmaster.pid" ]; then
    as_postgres "$bin/pg_ctl" -D "$STATE/pg" -m fast -w stop >/dev/null || true
  fi
  if [ -f "$STATE/redis.pid" ]; then
    kill "$(cat "$STATE/redis.pid")" 2>/dev/null || true
    rm -f "$STATE/redis.pid"
  fi
}

"$@"
