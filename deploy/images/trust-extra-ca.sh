#!/bin/sh
# Build stages only (never a final image): trusts the PEM certificates of the optional build secret
# `extra_ca` (e.g. the CA of a TLS-inspecting proxy, or the build machine's whole bundle), for apt's
# ca-certificates bundle that pip (PIP_CERT) and npm (cafile) are pointed at, and Java's (Maven), where
# ca-certificates-java is installed. Without the secret it does nothing.
#   RUN --mount=type=secret,id=extra_ca sh deploy/images/trust-extra-ca.sh
set -eu
secret=/run/secrets/extra_ca
[ -s "$secret" ] || exit 0
dir=/usr/local/share/ca-certificates/otop-extra
mkdir -p "$dir"
awk -v dir="$dir" '
  /-----BEGIN CERTIFICATE-----/ { n++; file = sprintf("%s/%04d.crt", dir, n) }
  file { print > file }
  /-----END CERTIFICATE-----/ { close(file); file = "" }' "$secret"
update-ca-certificates >/dev/null 2>&1
echo "trust-extra-ca: $(ls "$dir" | wc -l) extra certificate(s) trusted in this build stage"
