#!/usr/bin/env bash
# Refuses to start Keycloak with a weak first-administrator password, then runs the command given, if any:
#   admin-password.sh                      check KC_BOOTSTRAP_ADMIN_PASSWORD only (keycloak.sh does this)
#   admin-password.sh /opt/keycloak/bin/kc.sh start ...    check, then exec (the image's entrypoint)
# Weak: under 16 characters, containing the administrator's name, or one of the common passwords of
# otop-password-denylist.txt (deploy/keycloak/realm.py; the same list the realms' password policy uses).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
password=${KC_BOOTSTRAP_ADMIN_PASSWORD:-}
username=${KC_BOOTSTRAP_ADMIN_USERNAME:-}
refuse() { echo "admin-password.sh: KC_BOOTSTRAP_ADMIN_PASSWORD $*: refused (docs/security.md)" >&2; exit 1; }
[ -n "$password" ] || refuse "is not set"
[ "${#password}" -ge 16 ] || refuse "has fewer than 16 characters"
lower=${password,,}
[ -z "$username" ] || [[ "$lower" != *"${username,,}"* ]] || refuse "contains the administrator's name"
for list in "$here/otop-password-denylist.txt" "$here/../data/password-blacklists/otop-password-denylist.txt"; do
  if [ -f "$list" ]; then
    ! grep -qxF -- "$lower" "$list" || refuse "is a common password"
    break
  fi
done
[ $# -eq 0 ] || exec "$@"
