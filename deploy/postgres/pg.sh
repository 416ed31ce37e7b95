#!/usr/bin/env bash
# A private PostgreSQL cluster from the machine's binaries (the local stack, tests, benchmarks).
#   pg.sh start --data-dir DIR --port P [--relaxed-durability]
#                                    -> prints OTOP_PG_URL=postgresql://postgres@127.0.0.1:P/postgres
#   pg.sh stop  --data-dir DIR
#   pg.sh kill  --data-dir DIR       SIGKILL the server and its backends (a crash, for fault tests)
#
# Durable by default (fsync on, as PostgreSQL ships). --relaxed-durability (fsync and full_page_writes off)
# is for throwaway test clusters only: it survives a crash of PostgreSQL (kill -9), not one of the machine.
# PostgreSQL refuses to run as root, so as root the cluster runs as the 'postgres' system user. When that
# user cannot reach DIR (e.g. DIR lies in a private 0700 folder), the cluster lives in
# /var/lib/postgresql/otop-clusters/<id> instead, DIR/cluster pointing at it; such a cluster is removed
# by a later start once its DIR is gone.
set -euo pipefail

cmd=${1:-}; shift || true
data_dir=""; port=""; relaxed=""
while [ $# -gt 0 ]; do
  case "$1" in
    --data-dir) data_dir=$2; shift 2 ;;
    --port) port=$2; shift 2 ;;
    --relaxed-durability) relaxed=1; shift ;;
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
run_dir=$data_dir  # where the cluster, its socket and its log live
if [ "$(id -u)" = 0 ]; then
  chown postgres "$data_dir"
  clusters=/var/lib/postgresql/otop-clusters
  if [ -L "$data_dir/cluster" ] || ! runuser -u postgres -- test -x "$data_dir" -a -w "$data_dir"; then
    # Clusters of data dirs deleted since (their pointer is gone) and not running are removed.
    for old in "$clusters"/*/; do
      old=${old%/}; [ -f "$old/owner" ] || continue
      [ "$(readlink "$(cat "$old/owner")/cluster" 2>/dev/null)" = "$old" ] && continue
      as_owner "$bindir/pg_ctl" -D "$old/pgdata" status >/dev/null 2>&1 || rm -rf "$old"
    done
    run_dir=$clusters/$(printf '%s' "$data_dir" | sha256sum | cut -c1-16)
    mkdir -p "$run_dir"; chown postgres "$clusters" "$run_dir"; chmod 0700 "$run_dir"
    printf '%s\n' "$data_dir" >"$run_dir/owner"
    ln -sfn "$run_dir" "$data_dir/cluster"
  fi
fi
pgdata=$run_dir/pgdata

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
    durability=""
    [ -z "$relaxed" ] || durability="-c fsync=off -c full_page_writes=off"
    as_owner "$bindir/pg_ctl" -D "$pgdata" -l "$run_dir/postgres.log" -w -t 60 start \
      -o "-p $port -c listen_addresses=127.0.0.1 -k $run_dir $durability -c max_connections=300" >/dev/null \
      || { tail -30 "$run_dir/postgres.log" >&2; exit 1; }
    echo "OTOP_PG_URL=postgresql://postgres@127.0.0.1:$port/postgres"
    ;;
  stop)
    if [ -f "$pgdata/postmaster.pid" ]; then as_owner "$bindir/pg_ctl" -D "$pgdata" -m fast -w stop >/dev/null || true; fi
    ;;
  kill)
    pid=$(head -1 "$pgdata/postmaster.pid" 2>/dev/null || true)
    if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; then
      children=$(cat /proc/"$pid"/task/*/children 2>/dev/null || true)
      # shellcheck disable=SC2086  # a list of pids
      kill -KILL "$pid" $children 2>/dev/null || true
      for _ in $(seq 1 100); do
        alive=""; for p in $pid $children; do kill -0 "$p" 2>/dev/null && alive=1; done
        [ -z "$alive" ] && break; sleep 0.05
      done
    fi
    ;;
  *) echo "usage: pg.sh start|stop|kill --data-dir DIR [--port P] [--relaxed-durability]" >&2; exit 2 ;;
esac
