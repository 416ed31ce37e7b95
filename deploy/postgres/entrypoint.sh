#!/usr/bin/env bash
# The PostgreSQL image's start (deploy/postgres/Dockerfile): on the first start (an empty $PGDATA), initdb and
# the project's init (init-databases.sh) on a server that listens on no TCP port, so the health check
# (pg_isready on 127.0.0.1) passes only once every database and role exists; then the server in front.
set -euo pipefail
data=${PGDATA:?}
if [ ! -s "$data/PG_VERSION" ]; then
  pwfile=$(mktemp)
  printf '%s\n' "${POSTGRES_PASSWORD:-}" >"$pwfile"
  initdb -D "$data" -U postgres -E UTF8 --locale=C.UTF-8 --auth-local=peer --auth-host=scram-sha-256 \
    ${POSTGRES_PASSWORD:+--pwfile="$pwfile"} >/dev/null
  rm -f "$pwfile"
  # Every address may connect, always with a password (SCRAM); the container's network limits who can.
  printf 'host all all 0.0.0.0/0 scram-sha-256\nhost all all ::/0 scram-sha-256\n' >>"$data/pg_hba.conf"
  pg_ctl -D "$data" -o "-c listen_addresses=''" -w -s start
  bash "$(dirname "$0")/init-databases.sh"
  pg_ctl -D "$data" -m fast -w -s stop
  echo "postgres: initialised $data (${OTOP_DATABASES:-no databases})"
fi
exec postgres -D "$data" -c listen_addresses='*' "$@"
