#!/usr/bin/env bash
# The PostgreSQL image's start (deploy/postgres/Dockerfile): on the first start (an empty $PGDATA), initdb with
# the superuser POSTGRES_USER (postgres) and its POSTGRES_PASSWORD, and POSTGRES_DB if it names another
# database (in single-user mode); then the server in front. The services' roles and databases are
# deploy/postgres/provision.py's (compose's postgres-setup).
set -euo pipefail
data=${PGDATA:?}
user=${POSTGRES_USER:-postgres}
if [ ! -s "$data/PG_VERSION" ]; then
  pwfile=$(mktemp)
  printf '%s\n' "${POSTGRES_PASSWORD:-}" >"$pwfile"
  initdb -D "$data" -U "$user" -E UTF8 --locale=C.UTF-8 --auth-local=peer --auth-host=scram-sha-256 \
    ${POSTGRES_PASSWORD:+--pwfile="$pwfile"} >/dev/null
  rm -f "$pwfile"
  # Every address may connect, always with a password (SCRAM); the container's network limits who can.
  printf 'host all all 0.0.0.0/0 scram-sha-256\nhost all all ::/0 scram-sha-256\n' >>"$data/pg_hba.conf"
  if [ -n "${POSTGRES_DB:-}" ] && [ "$POSTGRES_DB" != postgres ]; then  # single-user mode: no server, no login
    [[ "$POSTGRES_DB" =~ ^[a-z_][a-z0-9_]*$ ]] || { echo "postgres: bad POSTGRES_DB $POSTGRES_DB" >&2; exit 1; }
    echo "CREATE DATABASE $POSTGRES_DB OWNER \"$user\"" | postgres --single -D "$data" postgres >/dev/null
  fi
  echo "postgres: initialised $data (superuser $user${POSTGRES_DB:+, database $POSTGRES_DB})"
fi
exec postgres -D "$data" -c listen_addresses='*' "$@"
