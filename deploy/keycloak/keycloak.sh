#!/usr/bin/env bash
# Keycloak (the OpenID Connect provider) in production mode from its Maven Central distribution
# (org.keycloak:keycloak-quarkus-dist), on a PostgreSQL database of its own: no Docker needed, only
# Java 17+ (the Temurin 25 JDK when present: it starts about twice as fast) and Maven.
#
#   keycloak.sh fetch                      the distribution into the cache, built once (kc.sh build)
#   keycloak.sh start  --data-dir DIR --port P --management-port M --db-url JDBC --public-url URL
#                                          background; waits until ready; imports the otop realm on the
#                                          first start; prints KEYCLOAK_URL=http://127.0.0.1:P/auth
#   keycloak.sh run    (same options)      foreground (exec), for supervisors
#   keycloak.sh stop   --data-dir DIR      SIGTERM, after 30 s SIGKILL
#   keycloak.sh status --data-dir DIR      exit 0 if the Keycloak of DIR is running
#
# It listens on 127.0.0.1:P only, over HTTP, under /auth. --public-url is the address browsers use (e.g. the
# web gateway's https://otop.example/auth): it is the token issuer's base, whatever address a service
# uses to reach Keycloak (--hostname-backchannel-dynamic). Default: http://127.0.0.1:P/auth.
#
# The admin console, the admin API and the master realm are served on 127.0.0.1:P only (--hostname-admin):
# the web gateway routes the otop realms and nothing else of Keycloak. It trusts X-Forwarded-* headers from
# KEYCLOAK_TRUSTED_PROXIES only (default 127.0.0.1: the local gateway).
#
# Secrets come from the environment only (never arguments, which `ps` shows), and have no defaults:
#   KC_BOOTSTRAP_ADMIN_PASSWORD   the master realm's temporary first administrator (user
#                                 KC_BOOTSTRAP_ADMIN_USERNAME, default "temporary-admin"), made by the first
#                                 start only and replaced by a named administrator right after
#                                 (deploy/keycloak/admin.py, take_over); asked for at every start, and a weak
#                                 one is refused (admin-password.sh)
#   OTOP_SALES_KEYCLOAK_SECRET    the otop-sales client's secret (deploy/keycloak/otop-realm.json), likewise
#   KC_DB_USERNAME / KC_DB_PASSWORD  the database login (default user postgres, no password)
# Other environment: OTOP_WEB_ORIGIN (the web app's origin for the otop-web client's redirect URIs; default
# the public URL's origin), KEYCLOAK_CACHE_DIR (default ~/.cache/otop-keycloak), KEYCLOAK_JAVA_HOME,
# KEYCLOAK_START_TIMEOUT (seconds, default 600: a loaded 2-core machine needs minutes), KEYCLOAK_STOP_TIMEOUT (default 30).
#
# DIR holds the instance's home (bin/ and conf/ copied, lib/ linked to the cache's built distribution,
# data/ its own: realm import file, temporary files), keycloak.log and keycloak.pid.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
version=26.5.6
cache=${KEYCLOAK_CACHE_DIR:-$HOME/.cache/otop-keycloak}/$version
dist=$cache/keycloak-$version
# Build-time options, baked into the cached distribution once (`kc.sh build`); `start --optimized` skips
# the build at every start. Changing them here makes the next fetch build again.
build_options=(--db=postgres --http-relative-path=/auth --health-enabled=true --metrics-enabled=true)
start_timeout=${KEYCLOAK_START_TIMEOUT:-600}
stop_timeout=${KEYCLOAK_STOP_TIMEOUT:-30}
install_hint="install OpenJDK 17+ / Maven: apt-get install -y openjdk-17-jre-headless maven"

say() { echo "keycloak.sh: $*" >&2; }
die() { say "$*"; exit 1; }

choose_java() {
  if [ -n "${KEYCLOAK_JAVA_HOME:-}" ]; then export JAVA_HOME=$KEYCLOAK_JAVA_HOME
  elif [ -x /usr/lib/jvm/temurin-25-jdk-amd64/bin/java ]; then export JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64
  fi
  java=${JAVA_HOME:+$JAVA_HOME/bin/}java
  command -v "$java" >/dev/null 2>&1 || die "java not found: $install_hint"
  local spec
  spec=$("$java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')
  case "$spec" in
    1.*|[0-9]|1[0-6]) die "Java $spec found, Keycloak $version needs 17+: $install_hint" ;;
  esac
}

# --- the distribution -------------------------------------------------------------------------------
build_stamp() { echo "$version ${build_options[*]}" | sha256sum | cut -d' ' -f1; }
fetched() { [ -f "$cache/.built" ] && [ "$(cat "$cache/.built")" = "$(build_stamp)" ]; }

fetch() {
  fetched && return 0
  choose_java
  command -v mvn >/dev/null 2>&1 || die "mvn not found: $install_hint"
  command -v unzip >/dev/null 2>&1 || die "unzip not found: apt-get install -y unzip"
  mkdir -p "$cache"
  # Concurrent callers (parallel test sessions) wait for one download and build instead of racing.
  exec 9>"$cache.lock"
  flock 9
  if ! fetched; then
    local tmp="$cache/partial.$$"
    rm -rf "$tmp"; mkdir -p "$tmp"
    if [ ! -d "$dist" ]; then
      say "fetching Keycloak $version from Maven Central into $cache"
      if ! mvn -q -B -Dstyle.color=never dependency:copy \
          "-Dartifact=org.keycloak:keycloak-quarkus-dist:$version:zip" "-DoutputDirectory=$tmp" >"$tmp/mvn.log" 2>&1; then
        sed 's/\x1b\[[0-9;]*m//g' "$tmp/mvn.log" >&2
        rm -rf "$tmp"
        die "mvn could not fetch Keycloak (is Maven Central reachable? a proxy to set in ~/.m2/settings.xml?)"
      fi
      unzip -q "$tmp/keycloak-quarkus-dist-$version.zip" -d "$tmp"
      mv "$tmp/keycloak-$version" "$dist"
    fi
    say "building Keycloak for production (${build_options[*]})"
    "$dist/bin/kc.sh" build "${build_options[@]}" >"$tmp/build.log" 2>&1 \
      || { cat "$tmp/build.log" >&2; rm -rf "$tmp"; die "kc.sh build failed"; }
    rm -rf "$tmp"
    build_stamp >"$cache/.built"
  fi
  exec 9>&-
}

usage() {
  echo "usage: keycloak.sh fetch | {start|run} --data-dir DIR --port P --management-port M --db-url JDBC [--public-url URL] | {stop|status} --data-dir DIR" >&2
  exit 2
}
need_dir() {  # need_dir [--existing exit-code]: the absolute data dir (created unless --existing)
  [ -n "$data_dir" ] || usage
  if [ "${1:-}" = --existing ] && [ ! -d "$data_dir" ]; then say "not running (no $data_dir)"; exit "$2"; fi
  mkdir -p "$data_dir"; data_dir=$(cd "$data_dir" && pwd -P)
}
need_options() {
  [[ "$port" =~ ^[0-9]+$ ]] && [[ "$mport" =~ ^[0-9]+$ ]] && [ "$port" != "$mport" ] || usage
  [[ "$db_url" == jdbc:postgresql://* ]] || die "--db-url must be jdbc:postgresql://host:port/database"
  public_url=${public_url:-http://127.0.0.1:$port/auth}
  [[ "$public_url" =~ ^https?://[^/]+/auth$ ]] || die "--public-url must be http(s)://host[:port]/auth"
}

# --- process helpers --------------------------------------------------------------------------------
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
pid_of() { cat "$data_dir/keycloak.pid" 2>/dev/null || true; }
# A zombie (exited, not yet reaped by a supervisor) counts as gone.
alive() { kill -0 "$1" 2>/dev/null && ! grep -qs '^[0-9]* (.*) Z' "/proc/$1/stat"; }
# True if the pid file names a live Keycloak of this data dir (not a recycled pid of something else).
pid_alive() {
  local pid; pid=$(pid_of)
  [[ "$pid" =~ ^[0-9]+$ ]] && alive "$pid" || return 1
  [ -r "/proc/$pid/cmdline" ] || return 0
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF "$data_dir/home/bin/kc.sh"
}

# The instance's home: kc.sh finds its home from its own path, so bin/ is a copy; lib/ (the built server),
# themes/ and providers/ are the cache's; data/ (import, tmp, transaction logs) and conf/ are this instance's.
prepare_home() {
  local home=$data_dir/home
  mkdir -p "$home/bin" "$home/data/import"
  cp "$dist/bin/kc.sh" "$home/bin/kc.sh"
  [ -d "$home/conf" ] || cp -r "$dist/conf" "$home/conf"
  for shared in lib themes providers; do ln -sfn "$dist/$shared" "$home/$shared"; done
  rm -f "$home/data/import/"*-realm.json
  cp "$here/"*-realm.json "$home/data/import/"
  mkdir -p "$home/data/password-blacklists"
  cp "$here/otop-password-denylist.txt" "$home/data/password-blacklists/"
  cp "$here/quarkus.properties" "$home/conf/quarkus.properties"
  export OTOP_WEB_ORIGIN=${OTOP_WEB_ORIGIN:-$(echo "$public_url" | sed -E 's#^(https?://[^/]+).*#\1#')}
  # Without it the realm file's ${OTOP_SALES_KEYCLOAK_SECRET} would be imported as it stands: a known secret.
  [ "${#OTOP_SALES_KEYCLOAK_SECRET}" -ge 32 ] 2>/dev/null \
    || die "set OTOP_SALES_KEYCLOAK_SECRET (>= 32 characters): the otop-sales client's secret"
  export KC_BOOTSTRAP_ADMIN_USERNAME=${KC_BOOTSTRAP_ADMIN_USERNAME:-temporary-admin}
  bash "$here/admin-password.sh" || die "set KC_BOOTSTRAP_ADMIN_PASSWORD to a strong password (16+ characters)"
  export KC_DB_USERNAME=${KC_DB_USERNAME:-postgres}
  server_cmd=("$home/bin/kc.sh" start --optimized --import-realm
    "--db-url=$db_url" --http-enabled=true --http-host=127.0.0.1 "--http-port=$port"
    "--http-management-port=$mport" "--hostname=$public_url" --hostname-backchannel-dynamic=true
    "--hostname-admin=http://127.0.0.1:$port/auth" --proxy-headers=xforwarded
    "--proxy-trusted-addresses=${KEYCLOAK_TRUSTED_PROXIES:-127.0.0.1}" --cache=local --log=console)
}

# Waits until Keycloak says it started and answers on its port. Fails if the process died or on timeout.
wait_ready() {
  local deadline=$((SECONDS + start_timeout))
  while [ "$SECONDS" -lt "$deadline" ]; do
    if grep -q "Keycloak $version on JVM .* started in" "$data_dir/keycloak.log" 2>/dev/null && port_open "$port"; then
      return 0
    fi
    pid_alive || { say "the Keycloak process exited"; return 1; }
    sleep 0.2
  done
  say "no Keycloak answering on 127.0.0.1:$port after ${start_timeout}s"
  return 1
}

ready() {
  say "keycloak pid $(pid_of) ready, home in $data_dir/home"
  echo "KEYCLOAK_URL=http://127.0.0.1:$port/auth"
}

# --- commands ---------------------------------------------------------------------------------------
main() {
  cmd=${1:-}; shift || true
  data_dir=""; port=""; mport=""; db_url=""; public_url=""
  while [ $# -gt 0 ]; do
    case "$1" in
      --data-dir) data_dir=${2:?--data-dir needs a value}; shift 2 ;;
      --port) port=${2:?--port needs a value}; shift 2 ;;
      --management-port) mport=${2:?--management-port needs a value}; shift 2 ;;
      --db-url) db_url=${2:?--db-url needs a value}; shift 2 ;;
      --public-url) public_url=${2:?--public-url needs a value}; shift 2 ;;
      *) say "unknown argument $1"; exit 2 ;;
    esac
  done

  case "$cmd" in
    fetch)
      [ -z "$data_dir$port$mport$db_url$public_url" ] || usage
      fetch; say "Keycloak $version ready in $dist" ;;

    start)
      need_options; need_dir
      exec 8>"$data_dir/.keycloak.sh.lock"; flock 8  # one start at a time per data dir
      if pid_alive; then
        wait_ready || die "keycloak pid $(pid_of) runs for $data_dir but does not answer on port $port"
        say "already running"; ready; exit 0
      fi
      rm -f "$data_dir/keycloak.pid"
      fetch; choose_java
      port_open "$port" && die "port $port on 127.0.0.1 is in use"
      port_open "$mport" && die "management port $mport on 127.0.0.1 is in use"
      prepare_home
      [ ! -f "$data_dir/keycloak.log" ] || mv -f "$data_dir/keycloak.log" "$data_dir/keycloak.log.1"
      # setsid: a Ctrl-C in the caller's terminal does not reach Keycloak (the caller stops it last).
      # $! is kc.sh's pid (setsid execs in place), the leader of a new process group with java in it.
      setsid nohup "${server_cmd[@]}" </dev/null >>"$data_dir/keycloak.log" 2>&1 8>&- &
      echo $! >"$data_dir/keycloak.pid"
      if ! wait_ready; then
        pid_alive && kill -9 -- "-$(pid_of)" 2>/dev/null || true
        rm -f "$data_dir/keycloak.pid"
        say "last lines of $data_dir/keycloak.log:"; tail -40 "$data_dir/keycloak.log" >&2
        die "Keycloak did not start"
      fi
      ready ;;

    run)
      need_options; need_dir
      ! pid_alive || die "keycloak pid $(pid_of) already runs for $data_dir"
      fetch; choose_java; prepare_home
      echo $$ >"$data_dir/keycloak.pid"  # exec keeps the pid
      exec "${server_cmd[@]}" ;;

    stop)
      [ -z "$port$mport$db_url$public_url" ] || usage
      need_dir --existing 0
      if pid_alive; then
        pid=$(pid_of)
        kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
        deadline=$((SECONDS + stop_timeout))
        while alive "$pid" && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.2; done
        if alive "$pid"; then
          say "keycloak pid $pid still running ${stop_timeout}s after SIGTERM: SIGKILL"
          kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
          for _ in $(seq 1 50); do alive "$pid" || break; sleep 0.1; done
        fi
        say "stopped keycloak pid $pid"
      else
        say "not running"
      fi
      rm -f "$data_dir/keycloak.pid" ;;

    status)
      [ -z "$port$mport$db_url$public_url" ] || usage
      need_dir --existing 1
      if pid_alive; then say "running, pid $(pid_of)"; else say "not running"; exit 1; fi ;;

    *) usage ;;
  esac
}

main "$@"
exit
