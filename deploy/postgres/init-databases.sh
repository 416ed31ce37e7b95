#!/usr/bin/env bash
# One database per service (no service reads another's tables), each owned by a role of the same name that
# logs in with its own password; no other role (but the superuser) may connect to it. Run once, by the
# image's entrypoint on the first start, as the superuser through the socket.
#   OTOP_DATABASES="otop_registry otop_scheduling"  PASSWORD_OTOP_REGISTRY=...  PASSWORD_OTOP_SCHEDULING=...
set -euo pipefail
for db in ${OTOP_DATABASES:-}; do
  [[ "$db" =~ ^[a-z_][a-z0-9_]*$ ]] || { echo "init-databases: bad database name $db" >&2; exit 1; }
  var=PASSWORD_${db^^}
  password=${!var:-}
  [ "${#password}" -ge 16 ] || { echo "init-databases: set $var (16 or more characters)" >&2; exit 1; }
  psql -q -v ON_ERROR_STOP=1 -U postgres -d postgres -v db="$db" -v password="$password" <<'SQL'
CREATE ROLE :"db" LOGIN PASSWORD :'password';
CREATE DATABASE :"db" OWNER :"db";
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
SQL
done
