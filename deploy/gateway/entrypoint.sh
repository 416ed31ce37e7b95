#!/bin/sh
# The gateway image's start: renders otop.conf.template from the OTOP_GATEWAY_* variables (only those: nginx's
# own $variables stay), as deploy/local/gateway.py renders it for the local stack, then runs nginx in front.
set -eu
conf=/var/cache/otop-gateway
missing=$(grep -o '\${OTOP_GATEWAY_[A-Z_]*}' /etc/otop-gateway/otop.conf.template | sort -u | tr -d '${}' |
  while read -r name; do eval "[ -n \"\${$name:-}\" ]" || echo "$name"; done)
[ -z "$missing" ] || { echo "gateway: set $missing" >&2; exit 1; }
envsubst "$(env | sed -n 's/^\(OTOP_GATEWAY_[A-Z_]*\)=.*/${\1}/p' | tr '\n' ' ')" \
  </etc/otop-gateway/otop.conf.template >"$conf/otop.conf"
exec nginx -e stderr -c /etc/otop-gateway/nginx.conf -g 'daemon off;'
