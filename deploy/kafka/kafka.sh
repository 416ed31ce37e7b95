#!/usr/bin/env bash
# Apache Kafka 4 (KRaft, one node acting as broker and controller), run from its Maven Central jars:
# no Docker and no Kafka tarball needed, only Java 17+, Maven and openssl.
#
#   kafka.sh fetch                                   jars into the cache (idempotent)
#   kafka.sh start  --data-dir DIR --port P [opts]   background; waits until ready, prints KAFKA_BOOTSTRAP=...,
#                                                    KAFKA_SSL_BOOTSTRAP=..., KAFKA_CA_FILE=..., KAFKA_ADMIN_*=...
#   kafka.sh run    --data-dir DIR --port P [opts]   foreground (exec java), for supervisors and containers
#   kafka.sh stop   --data-dir DIR                   SIGTERM, after 30 s SIGKILL
#   kafka.sh status --data-dir DIR                   exit 0 if the broker of DIR is running
# opts: --ssl-port SP (default P+2)  --controller-port CP (default P+1)
#       --host H (where the client listeners bind, default 127.0.0.1; 0.0.0.0 in a container)
#       --advertised-host A (the name clients of CLIENT are sent back to, default H)
#       --external-host E (the name clients of EXTERNAL are sent back to, default A; in the TLS certificate)
#
# Security (docs/security.md): every client listener authenticates with SASL/SCRAM-SHA-512.
#   CLIENT    SASL_PLAINTEXT on H:P    the services, inside the deployment's network
#   EXTERNAL  SASL_SSL on H:SP         what POS integrations reach; TLS with a certificate of DIR's own CA
#   CONTROLLER PLAINTEXT on 127.0.0.1:CP  the KRaft controller, loopback only
# The StandardAuthorizer denies what no ACL allows. The super user (KAFKA_ADMIN_USERNAME, default otop-admin)
# is created at format time with the password in DIR/admin.password (made on first start, mode 600, or
# KAFKA_ADMIN_PASSWORD); it administers (topics, ACLs, SCRAM users: deploy/kafka/provision.py) and nothing else.
# DIR/tls holds ca.crt (give it to clients), broker.p12 and its password; no private key leaves DIR.
#
# DIR holds server.properties, the log segments (DIR/logs), broker.log and kafka.pid. It is formatted
# on first start only, so topics, offsets, users and ACLs survive a stop/start.
#
# Environment: KAFKA_JARS_DIR (jars, default ~/.cache/otop-kafka/<version>/libs; a directory given here
# is used as it is, e.g. /opt/kafka/libs of the apache/kafka image), KAFKA_ADMIN_USERNAME,
# KAFKA_ADMIN_PASSWORD (first start only), KAFKA_HEAP_OPTS (default -Xms256m -Xmx512m), KAFKA_OPTS (extra
# JVM options), KAFKA_START_TIMEOUT (seconds, default 180), KAFKA_STOP_TIMEOUT (seconds, default 30).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
pom=$here/pom.xml
version=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$pom")
jars=${KAFKA_JARS_DIR:-$HOME/.cache/otop-kafka/$version/libs}
admin_user=${KAFKA_ADMIN_USERNAME:-otop-admin}
start_timeout=${KAFKA_START_TIMEOUT:-180}
stop_timeout=${KAFKA_STOP_TIMEOUT:-30}
install_hint="install OpenJDK 17+ / Maven: apt-get install -y openjdk-17-jre-headless maven"

say() { echo "kafka.sh: $*" >&2; }
die() { say "$*"; exit 1; }

require() {  # require java [mvn]
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool not found: $install_hint"
  done
  local spec
  spec=$(java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')
  case "$spec" in
    1.*|[0-9]|1[0-6]) die "Java $spec found, Kafka $version needs 17+: $install_hint" ;;
  esac
}

# --- jars -------------------------------------------------------------------------------------------
pom_hash() { sha256sum "$pom" | cut -d' ' -f1; }
fetched() {
  [ -n "${KAFKA_JARS_DIR:-}" ] && compgen -G "$jars/kafka_2.13-*.jar" >/dev/null && return 0  # given, not fetched
  [ -f "$jars/.complete" ] && [ "$(cat "$jars/.complete")" = "$(pom_hash)" ]
}

fetch() {
  fetched && return 0
  require java mvn
  mkdir -p "$(dirname "$jars")"
  # Concurrent callers (parallel test sessions) wait for one download instead of racing in one dir.
  exec 9>"$jars.lock"
  flock 9
  if ! fetched; then
    say "fetching Apache Kafka $version jars from Maven Central into $jars"
    local tmp="$jars.partial.$$"
    rm -rf "$tmp"; mkdir -p "$tmp"
    # Maven's output is kept for a failure only (with -q, Maven 3.8 still prints bare colour codes).
    if ! mvn -q -B -Dstyle.color=never -f "$pom" dependency:copy-dependencies -DincludeScope=runtime \
        -DoutputDirectory="$tmp" >"$tmp.log" 2>&1; then
      sed 's/\x1b\[[0-9;]*m//g' "$tmp.log" >&2
      rm -rf "$tmp" "$tmp.log"
      die "mvn could not fetch the jars (is Maven Central reachable? a proxy to set in ~/.m2/settings.xml?)"
    fi
    rm -f "$tmp.log"
    pom_hash >"$tmp/.complete"
    rm -rf "$jars"; mv "$tmp" "$jars"
  fi
  exec 9>&-
}

usage() {
  echo "usage: kafka.sh fetch | {start|run} --data-dir DIR --port P [--ssl-port SP] [--controller-port CP]" \
       "[--host H] [--advertised-host A] [--external-host E] | {stop|status} --data-dir DIR" >&2
  exit 2
}
need_dir() {  # need_dir [--existing]: the absolute, symlink-free data dir (created unless --existing)
  [ -n "$data_dir" ] || usage
  if [ "${1:-}" = --existing ] && [ ! -d "$data_dir" ]; then say "not running (no $data_dir)"; exit "$2"; fi
  mkdir -p "$data_dir"; data_dir=$(cd "$data_dir" && pwd -P)
}
need_ports() {
  [[ "$port" =~ ^[0-9]+$ ]] || usage
  cport=${cport:-$((port + 1))}
  sport=${sport:-$((port + 2))}
  [[ "$cport" =~ ^[0-9]+$ ]] && [[ "$sport" =~ ^[0-9]+$ ]] || usage
  [ "$cport" != "$port" ] && [ "$sport" != "$port" ] && [ "$sport" != "$cport" ] || usage
  host=${host:-127.0.0.1}
  advertised=${advertised:-$host}
  external=${external:-$advertised}
  [ "$advertised" != 0.0.0.0 ] || die "--advertised-host is needed with --host 0.0.0.0"
}

# --- process helpers --------------------------------------------------------------------------------
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# True if a socket other than a TIME_WAIT one holds local port $1 on 127.0.0.1 or the wildcard address:
# a listener, or an outgoing connection's source port, which would make the broker's bind fail too.
# (Linux hands connect() even source ports first, so port P+1 after a bind(0) port P is a likely one.)
port_taken() {
  port_open "$1" && return 0
  [ -r /proc/net/tcp ] || return 1
  awk -v port="$(printf '%04X' "$1")" '
    FNR > 1 { split($2, local, ":"); if (local[2] == port && $4 != "06" &&
      local[1] ~ /^(0100007F|00000000|00000000000000000000000000000000|00000000000000000000000001000000|0000000000000000FFFF00000100007F)$/) found = 1 }
    END { exit !found }' /proc/net/tcp /proc/net/tcp6 2>/dev/null
}
check_ports() {
  port_taken "$port" && die "port $port on 127.0.0.1 is in use (by another process or connection)"
  port_taken "$sport" && die "TLS port $sport on 127.0.0.1 is in use (by another process or connection): pass --ssl-port"
  port_taken "$cport" && die "controller port $cport on 127.0.0.1 is in use (by another process or connection): pass --controller-port"
  return 0
}
pid_of() { cat "$data_dir/kafka.pid" 2>/dev/null || true; }
# A zombie (exited, not yet reaped by a supervisor) counts as gone.
alive() { kill -0 "$1" 2>/dev/null && ! grep -qs '^[0-9]* (.*) Z' "/proc/$1/stat"; }
# True if the pid file names a live broker of this data dir (not a recycled pid of something else).
pid_alive() {
  local pid; pid=$(pid_of)
  [[ "$pid" =~ ^[0-9]+$ ]] && alive "$pid" || return 1
  [ -r "/proc/$pid/cmdline" ] || return 0
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF "kafka.Kafka $data_dir/server.properties"
}

java_cmd() {
  # shellcheck disable=SC2206  # KAFKA_HEAP_OPTS / KAFKA_OPTS are word lists on purpose
  local common=(-Djava.awt.headless=true "-Dlog4j2.configurationFile=$here/log4j2.properties"
    "-Dkafka.logs.dir=$data_dir" ${KAFKA_OPTS:-} -cp "$jars/*")
  # shellcheck disable=SC2206
  broker_cmd=(java ${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m} -XX:+UseG1GC -XX:MaxGCPauseMillis=20
    -XX:+ExitOnOutOfMemoryError "${common[@]}" kafka.Kafka "$data_dir/server.properties")
  # Short-lived tool JVMs: C1 only and serial GC start faster on a small machine.
  tool_cmd=(java -Xmx256m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC "${common[@]}" kafka.tools.StorageTool)
}

# A secret kept in a file of DIR (mode 600): the given value on first use, else a random one.
kept_secret() {  # kept_secret FILE [VALUE]
  if [ ! -s "$1" ]; then
    (umask 077; printf '%s' "${2:-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')}" >"$1")
  fi
  cat "$1"
}

# The listener integrations reach is TLS: a CA of this data dir's own signs the broker's certificate (EC P-256,
# names: localhost, 127.0.0.1 and the external host). Made once; delete DIR/tls to make new ones.
make_tls() {
  local tls=$data_dir/tls
  [ -f "$tls/broker.p12" ] && [ -f "$tls/ca.crt" ] && return 0
  command -v openssl >/dev/null 2>&1 || die "openssl not found: apt-get install -y openssl"
  rm -rf "$tls"; mkdir -p "$tls"  # ca.crt is public; the keystore and its password are mode 600
  local san="DNS:localhost,IP:127.0.0.1"
  if [[ "$external" =~ ^[0-9.]+$ ]]; then san="$san,IP:$external"; else san="$san,DNS:$external"; fi
  local store_password; store_password=$(kept_secret "$tls/broker.p12.password")
  (
    cd "$tls"; umask 077
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 -subj "/CN=OTOP Kafka CA" \
      -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
      -keyout ca.key -out ca.crt
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$external" \
      -keyout broker.key -out broker.csr
    printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\n' "$san" >broker.ext
    openssl x509 -req -in broker.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 825 -extfile broker.ext \
      -out broker.crt
    openssl pkcs12 -export -name broker -inkey broker.key -in broker.crt -certfile ca.crt \
      -passout "pass:$store_password" -out broker.p12
    # The CA signed its one certificate: its key is not kept (a new CA comes with a new DIR/tls).
    rm -f ca.key ca.srl broker.key broker.csr broker.ext
    chmod 644 ca.crt
  ) >"$data_dir/tls.log" 2>&1 || { cat "$data_dir/tls.log" >&2; die "making the TLS certificates failed"; }
  say "made a CA and the broker's TLS certificate in $tls (clients trust $tls/ca.crt)"
}

configure() {
  local admin_password scram_jaas
  admin_password=$(kept_secret "$data_dir/admin.password" "${KAFKA_ADMIN_PASSWORD:-}")
  make_tls
  scram_jaas="org.apache.kafka.common.security.scram.ScramLoginModule required"
  (umask 077; cat >"$data_dir/server.properties" <<PROPS
# Written by deploy/kafka/kafka.sh on every start: edits here are lost. Holds the super user's password.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=CLIENT://$host:$port,EXTERNAL://$host:$sport,CONTROLLER://127.0.0.1:$cport
advertised.listeners=CLIENT://$advertised:$port,EXTERNAL://$external:$sport
controller.listener.names=CONTROLLER
inter.broker.listener.name=CLIENT
listener.security.protocol.map=CLIENT:SASL_PLAINTEXT,EXTERNAL:SASL_SSL,CONTROLLER:PLAINTEXT
sasl.enabled.mechanisms=SCRAM-SHA-512
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
listener.name.client.scram-sha-512.sasl.jaas.config=$scram_jaas username="$admin_user" password="$admin_password";
listener.name.external.scram-sha-512.sasl.jaas.config=$scram_jaas;
listener.name.external.ssl.keystore.type=PKCS12
listener.name.external.ssl.keystore.location=$data_dir/tls/broker.p12
listener.name.external.ssl.keystore.password=$(cat "$data_dir/tls/broker.p12.password")
listener.name.external.ssl.client.auth=none
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=false
# ANONYMOUS is the principal of the PLAINTEXT controller listener (loopback only): the broker registers with
# the controller through it. Client listeners never yield ANONYMOUS: they require SASL.
super.users=User:$admin_user;User:ANONYMOUS
log.dirs=$data_dir/logs
num.partitions=3
default.replication.factor=1
auto.create.topics.enable=false
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=6
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=6
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
# After a crash (kill -9) the new incarnation is refused (DUPLICATE_BROKER_REGISTRATION) until the old
# one's session expires: 4 s instead of the default 9 s, so a restarted broker is back in ~5 s, not ~12 s.
broker.heartbeat.interval.ms=1000
broker.session.timeout.ms=4000
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
PROPS
  )
  java_cmd
  if [ ! -f "$data_dir/logs/meta.properties" ]; then
    local cluster_id
    "${tool_cmd[@]}" random-uuid >"$data_dir/format.log" 2>&1 || true
    cluster_id=$(grep -E '^[A-Za-z0-9_-]{22}$' "$data_dir/format.log" | tail -1 || true)
    [ -n "$cluster_id" ] || { cat "$data_dir/format.log" >&2; die "StorageTool random-uuid failed"; }
    "${tool_cmd[@]}" format -t "$cluster_id" -c "$data_dir/server.properties" \
      --add-scram "SCRAM-SHA-512=[name=$admin_user,password=$admin_password]" >>"$data_dir/format.log" 2>&1 \
      || { cat "$data_dir/format.log" >&2; die "formatting $data_dir/logs failed"; }
    say "formatted $data_dir/logs (cluster id $cluster_id)"
  fi
}

# Waits until the broker answers on its port and (with --logged) has logged that it started. Fails if
# the process died (then says so) or after the timeout. Without --logged, for a broker found running:
# it may be a `kafka.sh run` one, logging to its supervisor rather than broker.log.
wait_ready() {
  local deadline=$((SECONDS + start_timeout))
  while [ "$SECONDS" -lt "$deadline" ]; do
    if { [ "${1:-}" != --logged ] || grep -q "Kafka Server started" "$data_dir/broker.log" 2>/dev/null; } \
        && port_open "$port"; then
      return 0
    fi
    pid_alive || { say "the broker process exited"; return 1; }
    sleep 0.2
  done
  say "no broker answering on 127.0.0.1:$port after ${start_timeout}s"
  return 1
}

ready() {
  say "broker pid $(pid_of) ready, data in $data_dir"
  echo "KAFKA_BOOTSTRAP=$advertised:$port"
  echo "KAFKA_SSL_BOOTSTRAP=$external:$sport"
  echo "KAFKA_CA_FILE=$data_dir/tls/ca.crt"
  echo "KAFKA_ADMIN_USERNAME=$admin_user"
  echo "KAFKA_ADMIN_PASSWORD_FILE=$data_dir/admin.password"
}

# --- commands ---------------------------------------------------------------------------------------
# All in a function, so bash has parsed the whole file before it runs anything: rewriting kafka.sh
# while a start of it is waiting cannot break that start.
main() {
  cmd=${1:-}; shift || true
  data_dir=""; port=""; cport=""; sport=""; host=""; advertised=""; external=""
  while [ $# -gt 0 ]; do
    case "$1" in
      --data-dir) data_dir=${2:?--data-dir needs a value}; shift 2 ;;
      --port) port=${2:?--port needs a value}; shift 2 ;;
      --controller-port) cport=${2:?--controller-port needs a value}; shift 2 ;;
      --ssl-port) sport=${2:?--ssl-port needs a value}; shift 2 ;;
      --host) host=${2:?--host needs a value}; shift 2 ;;
      --advertised-host) advertised=${2:?--advertised-host needs a value}; shift 2 ;;
      --external-host) external=${2:?--external-host needs a value}; shift 2 ;;
      *) say "unknown argument $1"; exit 2 ;;
    esac
  done

  case "$cmd" in
    fetch)
      [ -z "$data_dir$port$cport$sport$host$advertised$external" ] || usage
      require java; fetch; say "jars ready in $jars" ;;

    start)
      need_ports; need_dir
      exec 8>"$data_dir/.kafka.sh.lock"; flock 8  # one start at a time per data dir
      if pid_alive; then
        wait_ready || die "broker pid $(pid_of) runs for $data_dir but does not answer on port $port"
        say "already running"; ready; exit 0
      fi
      rm -f "$data_dir/kafka.pid"
      require java; fetch
      check_ports; configure
      [ ! -f "$data_dir/broker.log" ] || mv -f "$data_dir/broker.log" "$data_dir/broker.log.1"
      # setsid: a Ctrl-C in the caller's terminal does not reach the broker, so the caller can stop its
      # services first and the broker last. Background jobs of this non-interactive shell stay in its
      # process group, so the child is no group leader and setsid execs in place: $! is java's pid.
      setsid nohup "${broker_cmd[@]}" </dev/null >>"$data_dir/broker.log" 2>&1 8>&- &
      echo $! >"$data_dir/kafka.pid"
      if ! wait_ready --logged; then
        pid_alive && kill -9 "$(pid_of)" 2>/dev/null || true
        rm -f "$data_dir/kafka.pid"
        say "last lines of $data_dir/broker.log:"; tail -40 "$data_dir/broker.log" >&2
        die "the broker did not start"
      fi
      ready ;;

    run)
      need_ports; need_dir
      ! pid_alive || die "broker pid $(pid_of) already runs for $data_dir"
      require java; fetch; check_ports; configure
      echo $$ >"$data_dir/kafka.pid"  # exec keeps the pid
      exec "${broker_cmd[@]}" ;;

    stop)
      [ -z "$port$cport$sport$host$advertised$external" ] || usage
      need_dir --existing 0
      if pid_alive; then
        pid=$(pid_of)
        kill -TERM "$pid" 2>/dev/null || true
        deadline=$((SECONDS + stop_timeout))
        while alive "$pid" && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.2; done
        if alive "$pid"; then
          say "broker pid $pid still running ${stop_timeout}s after SIGTERM: SIGKILL"
          kill -KILL "$pid" 2>/dev/null || true
          for _ in $(seq 1 50); do alive "$pid" || break; sleep 0.1; done
        fi
        say "stopped broker pid $pid"
      else
        say "not running"
      fi
      rm -f "$data_dir/kafka.pid" ;;

    status)
      [ -z "$port$cport$sport$host$advertised$external" ] || usage
      need_dir --existing 1
      if pid_alive; then say "running, pid $(pid_of)"; else say "not running"; exit 1; fi ;;

    *) usage ;;
  esac
}

main "$@"
exit
