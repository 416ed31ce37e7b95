#!/usr/bin/env bash
# The gateway image's health check: the app's page over plain HTTP; with TLS (OTOP_GATEWAY_LISTEN "<port> ssl";
# no TLS client in the image) the port accepting connections.
set -eu
listen=${OTOP_GATEWAY_LISTEN%% *}
exec 3<>"/dev/tcp/127.0.0.1/${listen##*:}"
case $OTOP_GATEWAY_LISTEN in *ssl*) exit 0 ;; esac
printf 'GET / HTTP/1.0\r\n\r\n' >&3
grep -q '200 OK' <&3
