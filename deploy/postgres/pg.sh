#!/usr/bin/env bash
# A private, throwaway PostgreSQL cluster from the machine's binaries (tests and local runs).
#   pg.sh start --data-dir DIR --port P   -> prints OTOP_PG_URL=postgresql://postgres@127.0.0.1:P/postgres
#   pg.sh stop  --data-dir DIR
# PostgreSQL refuses to run as root, so as root the cluster runs as the 'postgres' system user.
set -euo pipefail

cmd=${1:-}; shift || true
data_dir=""; port=""
while [ $# -gt 0 ]; do
  case "$1" in
    --data-dir) data_dir=$2; shift 2 ;;
    --port) port=$2; shift 2 ;;
    *) echo "pg.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -n "$data_dir" ] || { echo "pg.sh: --data-dir is required" >&2; exit 2; }

bindir=${PG_BINDIR:-}
if [ -z "$bindir" ]; then
  for d in /usr/lib/postgresql/*/bin; do [ -x "$d/pg_ctl" ] && bindir=$d; done
  [ -n "$bindir" ] || bindir=$(dirname "$(command -v pg_ctl 2>/dev/null || echo /nonexistent/pg_ctl)")
fi
if [ ! -x "$bindir/pg_ctl" ]; then
  echo "pg.sh: PostgreSQL server binaries not found; install them: apt-get install -y postgresql" >&2
  exit 1
fi

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

mkdir -p "$data_dir"
data_dir=$(cd "$data_dir" && pwd)
pgdata=$data_dir/pgdata
[ "$(id -u)" = 0 ] && chown postgres "$data_dir"

case "$cmd" in
  start)
    [ -n "$port" ] || { echo "pg.sh: --port is required" >&2; exit 2; }
    if [ ! -f "$pgdata/PG_VERSION" ]; then
      as_owner "$bindir/initdb" -D "$pgdata" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$data_dir/initdb.log" 2>&1 \
        || { cat "$data_dir/initdb.log" >&2; exit 1; }
    fi
    if as_owner "$bindir/pg_ctl" -D "$pgdata" status >/dev/null 2>&1; then
      echo "OTOP_PG_URL=postgresql://postgres@127.0.0.1:$(head -4 "$pgdata/postmaster.pid" | tail -1)/postgres"
      exit 0
    fi
    # Durability settings are relaxed: this cluster is for tests and local demos only.
    as_owner "$bindir/pg_ctl" -D "$pgdata" -l "$data_dir/postgres.log" -w -t 60 start \
      -o "-p $port -c listen_addresses=127.0.0.1 -k $data_dir -c fsync=off -c full_page_writes=off -c max_connections=300" >/dev/null \
      || { tail -30 "$data_dir/postgres.log" >&2; exit 1; }
    echo "OTOP_PG_URL=postgresql://postgres@127.0.0.1:$port/postgres"
    ;;
  stop)
    if [ -f "$pgdata/postmaster.pid" ]; then as_owner "$bindir/pg_ctl" -D "$pgdata" -m fast -w stop >/dev/null || true; fi
    ;;
  *) echo "usage: pg.sh start|stop --data-dir DIR [--port P]" >&2; exit 2 ;;
esac
