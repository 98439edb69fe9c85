#!/usr/bin/env bash
# Runs Debian's PostgreSQL as a local process owned by the `postgres` user (initdb and
# postgres refuse to run as root), with one database per service.
#   postgres.sh start | stop | status
# Env: PG_PORT (5433), NYPROD_RUN_DIR (<repo>/.run)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
RUN="${NYPROD_RUN_DIR:-$ROOT/.run}"
# the data directory must be reachable by the postgres user, so it lives outside /root
DATA="${PG_DATA_DIR:-/var/tmp/nyprod-pg-$(echo "$RUN" | md5sum | cut -c1-8)}"
PORT="${PG_PORT:-5433}"
DATABASES=(prospects units buyers)

log() { echo "postgres: $*" >&2; }

bindir() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
  [[ -n "$d" ]] && echo "$d"
}

install_pg() {
  if [[ -n "$(bindir)" ]]; then return; fi
  log "installing Debian's postgresql package"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q postgresql postgresql-contrib >/dev/null
  # the package starts its own cluster on 5432; ours is separate
}

as_pg() {
  if [[ "$(id -u)" == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

running() { as_pg "$(bindir)/pg_ctl" -D "$DATA" status >/dev/null 2>&1; }

start() {
  install_pg
  local bin; bin=$(bindir)
  if ! running; then
    if [[ ! -f "$DATA/PG_VERSION" ]]; then
      mkdir -p "$DATA"; chown postgres: "$DATA" 2>/dev/null || true; chmod 700 "$DATA"
      as_pg "$bin/initdb" -D "$DATA" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
    fi
    as_pg "$bin/pg_ctl" -D "$DATA" -l "$DATA/server.log" -w -t 60 start \
      -o "-p $PORT -k /tmp -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=${PG_FSYNC:-on} -c shared_buffers=128MB" >/dev/null
  fi
  for db in "${DATABASES[@]}"; do
    if ! as_pg "$bin/psql" -h 127.0.0.1 -p "$PORT" -U postgres -tAc "select 1 from pg_database where datname='$db'" | grep -q 1; then
      as_pg "$bin/createdb" -h 127.0.0.1 -p "$PORT" -U postgres "$db"
    fi
  done
  log "running on 127.0.0.1:$PORT (databases: ${DATABASES[*]})"
}

stop() {
  if [[ -z "$(bindir)" ]] || ! running; then log "not running"; return; fi
  as_pg "$(bindir)/pg_ctl" -D "$DATA" -m fast -w stop >/dev/null; log "stopped"
}

case "${1:-}" in
  start)
    if [[ -n "${NYPROD_TEST_POSTGRES_URL:-}${NYPROD_POSTGRES_URL:-}" ]]; then log "using the PostgreSQL server the environment names"; exit 0; fi
    start ;;
  stop) stop ;;
  status) if running; then echo running; else echo stopped; exit 1; fi ;;
  url) echo "postgresql+asyncpg://postgres@127.0.0.1:$PORT" ;;
  *) echo "usage: $0 start|stop|status|url" >&2; exit 2 ;;
esac
